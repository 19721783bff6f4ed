"""Optional encryption at rest of identifier and genome columns (Fernet: AES-128-CBC + HMAC-SHA256).

Off by default. With ``THERALAB_ENCRYPTION_KEY`` set (a Fernet key: 32 random bytes, url-safe
base64; ``theralab`` prints one with ``python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"``), columns typed :class:`EncryptedText` are written as
``enc1:<token>`` and decrypted when read, so a copy of the database files, a backup or a
``SELECT`` by someone without the key shows no names, MRNs, addresses or diplotypes.

Why a column type: every writer (ORM, the bulk upserts of FHIR ingest) and reader goes through
it, with no call site to forget. Rows written before the key was set stay readable (no prefix:
plain text) and are encrypted when next written. Several keys, comma-separated, rotate: the first
encrypts, any decrypts. The cost: encrypted columns cannot be searched or sorted in SQL (each
encryption of the same value differs), which is why only identifier and genome columns use it.
A missing or wrong key for an encrypted value raises :class:`EncryptionError` rather than
returning ciphertext as if it were a name.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from theralab.errors import TheralabError

PREFIX = "enc1:"
ENV = "THERALAB_ENCRYPTION_KEY"


class EncryptionError(TheralabError):
    """An encrypted value cannot be decrypted (no key, or not the key it was written with)."""

    status_code = 500


@lru_cache(maxsize=4)
def _fernet(keys: str) -> Any:
    from cryptography.fernet import Fernet, MultiFernet

    try:
        return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
    except (ValueError, TypeError) as exc:
        raise EncryptionError(f"{ENV} is not a Fernet key (32 url-safe base64-encoded bytes)",
                              where=ENV, hint="generate one with cryptography.fernet.Fernet.generate_key()") from exc


def enabled() -> bool:
    """True when a key is configured (new values are then written encrypted)."""
    return bool(os.environ.get(ENV, "").strip())


def encrypt(value: str) -> str:
    """``value`` encrypted with the first configured key, or unchanged when none is configured."""
    keys = os.environ.get(ENV, "").strip()
    if not keys:
        return value
    return PREFIX + _fernet(keys).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(value: str) -> str:
    """The plain text of a stored value (values without the prefix were written unencrypted)."""
    if not value.startswith(PREFIX):
        return value
    from cryptography.fernet import InvalidToken

    keys = os.environ.get(ENV, "").strip()
    if not keys:
        raise EncryptionError("an encrypted column was read but no key is configured", where=ENV,
                              hint=f"set {ENV} to the key the data was written with")
    try:
        return _fernet(keys).decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise EncryptionError("an encrypted column does not decrypt with the configured key(s)", where=ENV,
                              hint="add the old key after the new one, comma-separated, to rotate") from exc


class EncryptedText(TypeDecorator[str]):
    """A text column encrypted at rest when ``THERALAB_ENCRYPTION_KEY`` is set (plain otherwise)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else decrypt(str(value))


def reencrypt_all(session: Any, batch: int = 500) -> dict[str, int]:
    """Rewrite every encrypted column with the current first key (after setting or rotating it).

    Rows written before the key was set are plain, and rows written under an old key stay under it
    until rewritten; this reads each row of each table that has an :class:`EncryptedText` column and
    writes those columns back, so afterwards only the first key is needed. Returns rows per table.
    """
    from sqlalchemy import select
    from sqlalchemy.orm.attributes import flag_modified

    from theralab.runtime.db import Base
    from theralab.runtime.metadata import load_all

    load_all()
    done: dict[str, int] = {}
    for mapper in Base.registry.mappers:
        columns = [c.key for c in mapper.column_attrs if isinstance(c.columns[0].type, EncryptedText)]
        if not columns:
            continue
        cls = mapper.class_
        count, offset = 0, 0
        while True:
            rows = list(session.scalars(select(cls).order_by(*mapper.primary_key).limit(batch).offset(offset)))
            if not rows:
                break
            for row in rows:
                for key in columns:
                    if getattr(row, key) is not None:
                        flag_modified(row, key)
            session.flush()
            count, offset = count + len(rows), offset + batch
        done[mapper.local_table.name] = count
    return done
