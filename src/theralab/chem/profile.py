"""The molecule profiling pipeline shared by the CLI, the API, the web page and jobs.

One profile row per valid input molecule: identifiers (``id``, ``row``, ``input_smiles``, the
standardised ``smiles`` and its ``inchikey``), the standardisation ``changes``, every descriptor of
:mod:`theralab.chem.descriptors`, every rule set of :mod:`theralab.chem.filters` (``<rule>_pass``,
``<rule>_violations``, ``<rule>_failed``) and the structural alerts (``n_alerts`` and ``alerts``,
``CATALOG:description`` joined by ``"; "``), and the ``warnings`` RDKit gave on the row while it was
read, standardised and described (joined by ``"; "``; never printed). Rows that are not valid
molecules, or that fail standardisation, go to a separate error table with ``row, id, input, reason``.

The per-molecule loop calls RDKit directly (no per-molecule pandas, no intermediate objects);
rule sets are then evaluated column-wise on the whole chunk, so the overhead over a plain RDKit
loop computing the same values is small (see ``benchmarks/chem_profile.py``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem

from theralab.chem.descriptors import DESCRIPTOR_NAMES, DESCRIPTORS, sascorer_module
from theralab.chem.filters import ALERT_CATALOGS, RULE_SET_NAMES, alert_catalog, evaluate_rules
from theralab.chem.io import MoleculeReader, MolRecord, TableWriter, output_format, parse_smiles
from theralab.chem.rdkit_log import join_warnings, rdkit_messages
from theralab.chem.standardize import standardize as _standardize
from theralab.errors import InputError

ID_COLUMNS = ["id", "row", "input_smiles", "smiles", "inchikey", "changes"]
ALERT_COLUMNS = ["n_alerts", "alerts"]
WARNING_COLUMNS = ["warnings"]
ERROR_COLUMNS = ["row", "id", "input", "reason"]


def profile_columns(rules: Sequence[str] = RULE_SET_NAMES) -> list[str]:
    """The columns of a profile table, in order."""
    from theralab.chem.filters import rule_columns

    return ID_COLUMNS + list(DESCRIPTOR_NAMES) + rule_columns(rules) + ALERT_COLUMNS + WARNING_COLUMNS


@dataclass(frozen=True)
class ProfileProgress:
    """Progress of a file profile: rows seen, valid, invalid, and fraction of the input read."""

    rows: int
    valid: int
    invalid: int
    fraction: float | None


@dataclass(frozen=True)
class ProfileSummary:
    """Counts and paths of a finished file profile."""

    rows: int
    valid: int
    invalid: int
    output: str
    invalid_output: str
    seconds: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


def profile_records(
    records: Iterable[MolRecord],
    *,
    standardize: bool = True,
    tautomer: bool = False,
    catalogs: Sequence[str] = ALERT_CATALOGS,
    rules: Sequence[str] = RULE_SET_NAMES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profile parsed records.

    Args:
        records: records from :class:`theralab.chem.io.MoleculeReader` (invalid ones allowed).
        standardize: run :func:`theralab.chem.standardize.standardize` (largest fragment,
            neutralise) before describing.
        tautomer: also canonicalise the tautomer (slow).
        catalogs: structural-alert catalogues to search.
        rules: rule sets to evaluate.

    Returns:
        ``(profiles, errors)``: one profile row per valid molecule (columns from
        :func:`profile_columns`) and one error row per invalid record (``row, id, input, reason``).
    """
    sascorer_module()
    catalog = alert_catalog(tuple(catalogs))
    funcs = [d.func for d in DESCRIPTORS]
    ids: list[str] = []
    rows: list[int] = []
    inputs: list[str] = []
    smiles_out: list[str] = []
    keys: list[str] = []
    changes: list[str] = []
    values: list[list[float | int]] = []
    n_alerts: list[int] = []
    alerts: list[str] = []
    said: list[str] = []
    errors: list[tuple[int, str, str, str]] = []
    to_smiles = Chem.MolToSmiles
    to_key = Chem.MolToInchiKey
    for rec in records:
        if rec.mol is None:
            errors.append((rec.row, rec.id, rec.smiles, rec.error or "invalid molecule"))
            continue
        with rdkit_messages() as rdkit:  # RDKit's warnings on this row go to its 'warnings' cell
            try:
                std_warnings: list[str] = []
                if standardize:
                    std = _standardize(rec.mol, tautomer=tautomer)
                    mol, smi, change, std_warnings = std.mol, std.smiles, "; ".join(std.changes), std.warnings
                else:
                    mol, change = rec.mol, ""
                    smi = to_smiles(mol)
                vals = [f(mol) for f in funcs]
                key = to_key(mol)
                hits = catalog.GetMatches(mol)
                hit_text = "; ".join(f"{h.GetProp('FilterSet').upper()}:{h.GetDescription()}" for h in hits)
            except Exception as exc:  # one odd molecule must not stop a ten-million-row run
                reason = exc.message if isinstance(exc, InputError) else f"could not profile: {exc}"
                errors.append((rec.row, rec.id, rec.smiles, reason))
                continue
        said.append(join_warnings(rec.warnings, std_warnings, rdkit.warnings))
        ids.append(rec.id)
        rows.append(rec.row)
        inputs.append(rec.smiles)
        smiles_out.append(smi)
        keys.append(key)
        changes.append(change)
        values.append(vals)
        n_alerts.append(len(hits))
        alerts.append(hit_text)
    profiles = assemble_rows(ids, rows, inputs, smiles_out, keys, changes, values, n_alerts, alerts, rules, said)
    return profiles, pd.DataFrame(errors, columns=ERROR_COLUMNS).astype({"row": "int64"})


def assemble_rows(
    ids: list[str],
    rows: list[int],
    inputs: list[str],
    smiles_out: list[str],
    keys: list[str],
    changes: list[str],
    values: list[list[float | int]],
    n_alerts: list[int],
    alerts: list[str],
    rules: Sequence[str],
    warnings: list[str] | None = None,
) -> pd.DataFrame:
    """One profile table from per-row columns (``warnings``: RDKit's warnings per row, "" if none)."""
    n = len(ids)
    cols: dict[str, object] = {
        "id": pd.Series(ids, dtype=object),
        "row": np.asarray(rows, dtype=np.int64),
        "input_smiles": pd.Series(inputs, dtype=object),
        "smiles": pd.Series(smiles_out, dtype=object),
        "inchikey": pd.Series(keys, dtype=object),
        "changes": pd.Series(changes, dtype=object),
    }
    matrix = np.asarray(values, dtype=np.float64).reshape(n, len(DESCRIPTORS))
    for j, d in enumerate(DESCRIPTORS):
        cols[d.name] = matrix[:, j] if d.dtype is float else matrix[:, j].astype(np.int64)
    df = pd.DataFrame(cols)
    rule_df = evaluate_rules(df, rules)
    df = pd.concat([df, rule_df], axis=1)
    df["n_alerts"] = np.asarray(n_alerts, dtype=np.int64)
    df["alerts"] = pd.Series(alerts, dtype=object)
    df["warnings"] = pd.Series(warnings if warnings is not None else [""] * n, dtype=object)
    return df


def profile_smiles(
    smiles: Sequence[str], ids: Sequence[str] | None = None, **kwargs: object
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profile a list of SMILES (ids default to ``"1"``, ``"2"``, ...).

    Keyword arguments are those of :func:`profile_records`.

    Raises:
        InputError: ``ids`` and ``smiles`` differ in length.
    """
    if ids is not None and len(ids) != len(smiles):
        raise InputError(f"{len(ids)} ids for {len(smiles)} SMILES", where="ids")
    records = []
    for i, smi in enumerate(smiles):
        text = "" if smi is None else str(smi)
        said: list[str] = []
        mol, err = parse_smiles(text, said)
        ident = str(ids[i]) if ids is not None and ids[i] not in (None, "") else str(i + 1)
        records.append(MolRecord(i + 1, ident, text.strip(), mol, err, "; ".join(said)))
    return profile_records(records, **kwargs)  # type: ignore[arg-type]


def invalid_path_for(output: str | os.PathLike[str]) -> Path:
    """The side file for invalid rows: ``<output stem>.invalid.csv`` beside the output."""
    out = Path(output)
    return out.with_name(f"{out.stem}.invalid.csv")


def profile_file(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    smiles_column: str | None = None,
    id_column: str | None = None,
    standardize: bool = True,
    tautomer: bool = False,
    progress: Callable[[ProfileProgress], None] | None = None,
    chunk_size: int = 5000,
    catalogs: Sequence[str] = ALERT_CATALOGS,
) -> ProfileSummary:
    """Profile a molecule file into a CSV/TSV/Parquet/SD output, chunk by chunk.

    Invalid rows go to ``<output stem>.invalid.csv`` (``row, id, input, reason``), which is always
    written (header only when every row is valid). Output is appended per chunk, so memory stays
    bounded whatever the input size, and if the input turns out to be corrupt half-way (a
    truncated gzip) the rows profiled before it stay in a complete, readable output file.

    Args:
        input: SMILES, CSV/TSV, SDF or Parquet file (text formats may be gzipped).
        output: ``.csv``, ``.tsv``, ``.parquet`` or ``.sdf``.
        smiles_column: SMILES column of a CSV/TSV/Parquet input (auto-detected when ``None``).
        id_column: identifier column (auto-detected when ``None``; row numbers otherwise).
        standardize: standardise before describing.
        tautomer: canonicalise tautomers (slow).
        progress: called after each chunk with a :class:`ProfileProgress`.
        chunk_size: molecules per chunk.
        catalogs: structural-alert catalogues.

    Returns:
        Counts of rows, valid and invalid molecules, and the two output paths.

    Raises:
        InputError: missing/empty/binary input, unknown column or format, output equal to input.
    """
    src = Path(input)
    out = Path(output)
    output_format(out)
    side = invalid_path_for(out)
    if src.exists() and out.exists() and os.path.samefile(src, out):
        raise InputError("the output file is the input file; refusing to overwrite it", where=str(out))
    alert_catalog(tuple(catalogs))  # unknown catalogue names fail before anything is written
    reader = MoleculeReader(src, smiles_column=smiles_column, id_column=id_column, chunk_size=chunk_size)
    start = time.perf_counter()
    n_rows = n_valid = n_invalid = 0
    with TableWriter(out) as writer, TableWriter(side) as side_writer:
        for chunk in reader.chunks():
            df, err = profile_records(chunk, standardize=standardize, tautomer=tautomer, catalogs=catalogs)
            if n_rows == 0 and len(df) == 0:
                writer.write(df)  # header / schema even when the first chunk is all invalid
            elif len(df):
                writer.write(df)
            side_writer.write(err)
            n_rows += len(chunk)
            n_valid += len(df)
            n_invalid += len(err)
            if progress is not None:
                progress(ProfileProgress(n_rows, n_valid, n_invalid, reader.fraction))
    return ProfileSummary(
        rows=n_rows,
        valid=n_valid,
        invalid=n_invalid,
        output=str(out),
        invalid_output=str(side),
        seconds=time.perf_counter() - start,
    )
