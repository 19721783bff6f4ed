"""Import every module that declares ORM tables, so ``Base.metadata`` knows the whole schema.

Alembic's env.py and the tests import this. Add a domain's table module here when it gains one.
"""

from __future__ import annotations

import importlib

from theralab.runtime.db import Base

TABLE_MODULES = [
    "theralab.privacy.tables",
    "theralab.runtime.tables",
    "theralab.runtime.alerts",
    "theralab.ehr.tables",
    "theralab.monitoring.streams.tables",
    "theralab.trials.tables",
    "theralab.monitoring.assistant.tables",
    "theralab.literature.tables",
]


def load_all() -> type[Base]:
    """Import the table modules that exist and return ``Base``."""
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return Base
