"""Who may run which job kind, and where a job submitted over the network may read and write.

The API is reachable by any logged-in user, so a job submitted through it must never name a
server path: its inputs are uploads (kept under ``<data dir>/uploads/<user>/<upload id>/``) or
registered libraries (``<data dir>/libraries/<name>``), named by id, and its outputs are written
inside the job's own folder ``<data dir>/jobs/<job id>/``. Every path a job derives is resolved
(symlinks followed) and must stay inside its root: :func:`confined` is the one check.

The command line, run by a local user who already has the files, keeps plain paths.
"""

from __future__ import annotations

import re
from pathlib import Path

from theralab.errors import ForbiddenError, InputError, NotFoundError

#: Roles that may run each job kind (admin always may). A kind not listed here is admin-only, so a
#: new kind is closed until someone decides who may run it. A kind class may also declare ``roles``.
JOB_ROLES: dict[str, tuple[str, ...]] = {
    "chem.profile": ("researcher", "clinician"),
    "admet.predict": ("researcher", "clinician"),
    "screen.run": ("researcher",),
    "selftest": ("researcher", "clinician"),
    "generate.run": ("researcher",),
}

#: An id the API accepts for an upload, library or model: a plain name, never a path.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")



def roles_for_kind(kind: str) -> tuple[str, ...]:
    """The roles allowed to run ``kind`` (admin excluded: it always passes)."""
    return JOB_ROLES.get(kind, ())


def check_kind_allowed(kind: str, roles: set[str] | frozenset[str]) -> None:
    """Raise ForbiddenError unless a caller with ``roles`` may run job ``kind``."""
    if "admin" in roles:
        return
    allowed = roles_for_kind(kind)
    if not set(roles) & set(allowed):
        raise ForbiddenError(
            f"job kind {kind!r} may be run by {', '.join(allowed) or 'admin'} only",
            where="kind",
            hint="ask an administrator for the role, or run it locally with the command line",
        )


def safe_name(value: str, where: str) -> str:
    """Return ``value`` when it is a plain name (letters, digits, ``._-``; no slash, no '..')."""
    if not SAFE_NAME.match(value or "") or ".." in value:
        raise InputError(f"{value!r} is not a plain name", where=where,
                         hint="name an upload, library or model by its id, never by a server path")
    return value


def confined(path: Path, root: Path, where: str = "path") -> Path:
    """``path`` resolved (symlinks followed), refused unless it lies inside ``root``."""
    root_r = Path(root).resolve()
    target = Path(path).resolve()
    if target != root_r and root_r not in target.parents:
        raise ForbiddenError("that location is outside the area this request may use", where=where)
    return target


def uploads_root(data_dir: Path, username: str) -> Path:
    """The folder holding ``username``'s uploads (a hash-free, name-checked folder per user)."""
    return Path(data_dir) / "uploads" / safe_name(username.replace("@", "_"), "user")


def upload_path(data_dir: Path, username: str, upload_id: str) -> Path:
    """The file of upload ``upload_id`` of ``username``; NotFoundError when it is not theirs or absent."""
    root = uploads_root(data_dir, username)
    folder = confined(root / safe_name(upload_id, "upload_id"), root, "upload_id")
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    if len(files) != 1:
        raise NotFoundError(f"no upload {upload_id!r} of yours", where="upload_id",
                            hint="upload the file first: POST /v1/jobs/uploads")
    return confined(files[0], root, "upload_id")


def library_file(data_dir: Path, library: str) -> Path:
    """A registered library's molecule file ``<data dir>/libraries/<name>/molecules.parquet``."""
    root = Path(data_dir) / "libraries"
    path = confined(root / safe_name(library, "library") / "molecules.parquet", root, "library")
    if not path.is_file():
        raise NotFoundError(f"no registered library {library!r}", where="library",
                            hint="register one with 'theralab screen library add'")
    return path
