"""The ``theralab`` command: one command group per domain (``theralab <domain> <verb>``).

Each domain module in ``theralab.cli`` exposes ``app = App(...)``; they are registered
below. Heavy libraries are imported inside the commands, so ``theralab --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from theralab.cli._common import App
from theralab.errors import TheralabError

app = App(
    name="theralab",
    help="theralab: from molecule to patient. Run 'theralab <group> --help' for each group.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# (command group name, module in theralab.cli)
GROUPS = [
    ("db", "db"),
    ("users", "users"),
    ("demo", "demo"),
    ("serve", None),
    ("jobs", "jobs"),
    ("models", "models"),
    ("chem", "chem"),
    ("admet", "admet"),
    ("screen", "screen"),
    ("dti", "dti"),
    ("pk", "pk"),
    ("dissolution", "dissolution"),
    ("ddi", "ddi"),
    ("ehr", "ehr"),
    ("trials", "trials"),
    ("pgx", "pgx"),
    ("monitor", "monitor"),
    ("ews", "ews"),
    ("ecg", "ecg"),
    ("assistant", "assistant"),
    ("audit", "audit"),
    ("risk", "risk"),
    ("oncology", "oncology"),
    ("imaging", "imaging"),
    ("response", "response"),
    ("generate", "generate"),
    ("literature", "literature"),
]

for _name, _module in GROUPS:
    if _module is None:
        continue
    try:
        _mod = importlib.import_module(f"theralab.cli.{_module}")
    except ModuleNotFoundError as _exc:
        if _exc.name == f"theralab.cli.{_module}":
            continue  # group not built yet
        raise
    app.add_typer(_mod.app, name=_name)


@app.command()
def serve(
    host: str = typer.Option(None, help="interface to bind (default from settings: 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default from settings: 8000)"),
    warm: str = typer.Option("panel", help="models each server process loads at start-up, comma-separated "
                             "('' for none): the ADMET panel answers its first request warm"),
) -> None:
    """Serve the REST API (/v1, docs at /docs) and the web UI."""
    import os

    import uvicorn

    os.environ.setdefault("THERALAB_WARM_MODELS", warm)
    from theralab.settings import get_settings

    settings = get_settings()
    uvicorn.run("theralab.app:create_app", factory=True, host=host or settings.host, port=port or settings.port)


def main() -> None:
    """Entry point that prints TheralabError as a friendly message instead of a traceback."""
    try:
        app()
    except TheralabError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
