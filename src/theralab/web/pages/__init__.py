"""Page modules; each exposes ``router`` (HTML routes) and is listed in ``theralab.web.app.PAGES``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from theralab.api.deps import Principal, get_current_user


def web_user(request: Request) -> Principal:
    """The logged-in user from the session cookie (redirects to /login when absent or expired)."""
    user = get_current_user(request, None)
    request.state.user = user
    return user


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
