"""One input row of a molecule file, and how a row's text becomes a molecule or a reason.

Why its own module: every reader (files in :mod:`theralab.chem.io`, chunks of a job, SMILES given
inline to the API or pasted into a page) makes its rows here, so a row gets the same reason for a
bad molecule and the same collected RDKit warnings whichever way it came in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rdkit import Chem

from theralab.chem.rdkit_log import rdkit_messages


@dataclass(slots=True)
class MolRecord:
    """One input row: where it came from, what the user wrote, and the molecule or why not.

    Attributes:
        row: 1-based data row (or SD record) number as the user sees it.
        id: the row's identifier (id column, SD title) or the row number as text.
        smiles: the SMILES as written in the input (for SD files: RDKit's SMILES of the record).
        mol: the sanitised RDKit molecule, or ``None`` when the row is invalid.
        error: why the row is invalid (``None`` when ``mol`` is set).
        warnings: what RDKit warned about while reading a valid row (``"; "``-separated, ``""``
            when nothing), e.g. "WARNING: not removing hydrogen atom without neighbors".
    """

    row: int
    id: str
    smiles: str
    mol: Chem.Mol | None
    error: str | None = None
    warnings: str = ""

    @property
    def ok(self) -> bool:
        """True when the row holds a usable molecule."""
        return self.mol is not None


def parse_smiles(smiles: str, warnings: list[str] | None = None) -> tuple[Chem.Mol | None, str | None]:
    """Parse one SMILES and, when it fails, say why in words RDKit would use.

    The fast path is a single ``MolFromSmiles``; only failures are re-parsed without
    sanitisation to tell a syntax error from a chemistry (valence, aromaticity) error.
    Nothing RDKit says is printed.

    Args:
        smiles: the SMILES as written.
        warnings: when given, RDKit's warnings on a molecule that parses are appended to it.

    Returns:
        ``(mol, None)`` on success, ``(None, reason)`` otherwise.
    """
    text = smiles.strip()
    if not text:
        return None, "empty SMILES"
    with rdkit_messages() as rdkit:
        mol = Chem.MolFromSmiles(text)
        if mol is not None:
            if mol.GetNumAtoms() == 0:
                return None, "SMILES has no atoms"
            if warnings is not None:
                warnings.extend(rdkit.warnings)
            return mol, None
        raw = Chem.MolFromSmiles(text, sanitize=False)
        if raw is None:
            detail = _clip(rdkit.detail(skip=text), 160)
            return None, f"malformed SMILES (syntax error): {_clip(text)}" + (f" (RDKit: {detail})" if detail else "")
        try:
            Chem.SanitizeMol(raw)
        except Exception as exc:  # RDKit raises several sanitisation exception types
            return None, f"invalid chemistry: {exc}"
    return None, f"could not parse SMILES: {_clip(text)}"


def _clip(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def valid_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def safe_text(text: str) -> str:
    """Text with undecodable bytes (kept by surrogateescape) shown as U+FFFD, safe to print and write."""
    if valid_utf8(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def make_record(row: int, smiles: str, ident: str, parse: bool = True) -> MolRecord:
    """One row from its text: undecodable bytes and NUL bytes become the row's reason, never a crash.

    Args:
        row: the 1-based row number the user sees.
        smiles: the SMILES as read (undecodable bytes kept by surrogateescape).
        ident: the row's id; blank means "use the row number".
        parse: False leaves ``mol`` unset (a planner that only splits the file into chunks).
    """
    ident = safe_text(ident.strip()) or str(row)
    if not valid_utf8(smiles):
        return MolRecord(row, ident, safe_text(smiles), None, "not valid UTF-8 text")
    if "\x00" in smiles:
        return MolRecord(row, ident, smiles.replace("\x00", "\\0"), None, "binary data (NUL byte) in SMILES")
    if not parse:
        return MolRecord(row, ident, smiles.strip(), None, None)
    said: list[str] = []
    mol, err = parse_smiles(smiles, said)
    return MolRecord(row, ident, smiles.strip(), mol, err, "; ".join(said))


def records_from_smiles(smiles: Sequence[str], ids: Sequence[str] | None = None) -> list[MolRecord]:
    """Rows for SMILES given inline (an API body, a pasted list), read as a file's rows are.

    Each gets the same reason for a bad molecule and the same collected warnings as in a file.
    """
    return [make_record(i + 1, text, ids[i] if ids is not None else "") for i, text in enumerate(smiles)]


def records_from_chunk(frame: Any) -> list[MolRecord]:
    """Parse the rows of a planned chunk (``row, id, smiles, error``, as ``chem.jobs`` writes them).

    Every chunked job's worker reads its rows with this, so a row's reason and warnings are the
    ones the reader gives in a single-process command.
    """
    records = []
    for row, ident, smiles, error in frame[["row", "id", "smiles", "error"]].itertuples(index=False):
        if isinstance(error, str) and error:  # a null may read back as None or NaN
            records.append(MolRecord(int(row), str(ident), str(smiles), None, str(error)))
        else:
            said: list[str] = []
            mol, err = parse_smiles(str(smiles), said)
            records.append(MolRecord(int(row), str(ident), str(smiles), mol, err, "; ".join(said)))
    return records


__all__ = ["MolRecord", "make_record", "parse_smiles", "records_from_chunk", "records_from_smiles",
           "safe_text", "valid_utf8"]
