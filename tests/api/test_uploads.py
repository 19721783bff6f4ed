"""``api.uploads.read_upload``: the one size check of the job and literature uploads."""

from __future__ import annotations

import asyncio
import io

import pytest
from fastapi import UploadFile

from theralab.api.uploads import read_upload
from theralab.errors import InputError


def _read(data: bytes, limit: int, hint: str = "use the command line") -> bytes:
    return asyncio.run(read_upload(UploadFile(io.BytesIO(data), filename="mols.smi"), limit, hint=hint))


def test_a_file_at_the_limit_is_read_whole():
    assert _read(b"CCO ethanol\n", 12) == b"CCO ethanol\n"


def test_an_empty_file_is_refused_naming_the_field():
    with pytest.raises(InputError, match="empty") as err:
        _read(b"", 10)
    assert err.value.where == "file"


def test_one_byte_over_the_limit_is_refused_with_the_hint():
    with pytest.raises(InputError, match="larger than 1 MiB") as err:
        _read(b"x" * (2**20 + 1), 2**20, hint="split it")
    assert err.value.where == "file" and err.value.hint == "split it"
