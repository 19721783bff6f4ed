"""Page modules; each exposes ``router`` (HTML routes) and is listed in ``theralab.web.app.PAGES``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from theralab.privacy.deps import Principal, get_current_user


def web_user(request: Request) -> Principal:
    """The logged-in user from the session cookie (redirects to /login when absent or expired)."""
    user = get_current_user(request, None)
    request.state.user = user
    return user


def domain_guard(request: Request) -> None:
    """Every page under a domain of the navigation is open only to that domain's roles (admin: all).

    One check for all page modules, from the same list the navigation is drawn from, so what the
    menu hides a typed address cannot open either (a patient typing ``/chem`` gets 403). Pages keep
    their own finer checks.
    """
    from theralab.privacy.auth import require_role
    from theralab.web.templating import roles_for_path

    roles = roles_for_path(request.url.path)
    if roles is None:
        return
    user = web_user(request)
    require_role(set(user.roles), *roles)


WebUser = Annotated[Principal, Depends(web_user)]


def parse_molecule_lines(text: str) -> tuple[list[str], list[str]]:
    """Pasted molecules: one 'SMILES [id]' per line (space or comma); blank lines and # comments skipped.

    Returns SMILES and ids; a line without an id is named after its line number, so an error the
    page reports points at the line the user typed.
    """
    smiles, ids = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.replace(",", " ").split(None, 1)
        smiles.append(parts[0])
        ids.append(parts[1].strip() if len(parts) > 1 else f"line {number}")
    return smiles, ids


#: Most pasted molecules a page scores inline; more belong in an uploaded file run as a job.
INLINE_LIMIT = 1000


def pasted_molecules(text: str, limit: int = INLINE_LIMIT) -> tuple[list[str], list[str]]:
    """:func:`parse_molecule_lines`, refusing an empty paste or one too long to score inline."""
    from theralab.errors import InputError

    smiles, ids = parse_molecule_lines(text)
    if not smiles:
        raise InputError("no molecules given", where="text", hint="paste one SMILES per line, optionally with an id")
    if len(smiles) > limit:
        raise InputError(f"{len(smiles)} molecules is more than {limit} for the page",
                         hint="upload a file instead: it runs as a job with progress")
    return smiles, ids


async def start_upload_job(user: Principal, upload: Any, kind: str, params: dict[str, Any], output_suffix: str) -> Any:
    """Keep an uploaded molecule file in the user's upload folder, run job ``kind`` on it, go to the job page.

    The job reads ``input`` and writes ``output`` (the upload's name with ``output_suffix``); the
    upload is audited as ``<kind>.upload``.
    """
    from fastapi.responses import RedirectResponse

    from theralab.privacy.confine import check_kind_allowed
    from theralab.runtime.jobs import create_job, start_in_background
    from theralab.settings import get_settings

    check_kind_allowed(kind, user.roles)

    folder = Path(get_settings().data_dir) / "uploads" / user.username
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(upload.filename).name
    target.write_bytes(await upload.read())
    job_params = {"input": str(target), **params, "output": str(target.with_suffix(output_suffix))}
    job_id = create_job(kind, job_params, owner=user.username)
    user.audit(f"{kind}.upload", "Job", job_id)
    start_in_background(job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
