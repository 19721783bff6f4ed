"""Reading an uploaded file whole, with the size limit every upload route enforces.

Why here: the job upload and the literature upload each read one byte past their limit to tell
"too large" from "exactly the limit", and refused an empty file, in the same words.
"""

from __future__ import annotations

from fastapi import UploadFile

from theralab.errors import InputError


async def read_upload(upload: UploadFile, limit: int, *, hint: str) -> bytes:
    """The whole upload, at most ``limit`` bytes.

    Args:
        upload: the multipart file.
        limit: the largest size accepted, in bytes.
        hint: what to do instead when the file is too large (shown with the error).

    Raises:
        InputError: (``where="file"``) the file is empty or larger than ``limit``.
    """
    data = await upload.read(limit + 1)
    if not data:
        raise InputError("the uploaded file is empty", where="file")
    if len(data) > limit:
        raise InputError(f"the upload is larger than {limit // 2**20} MiB", where="file", hint=hint)
    return data


__all__ = ["read_upload"]
