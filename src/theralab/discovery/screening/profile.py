"""The screening pipeline's per-molecule profile, made fast without changing a single value.

:func:`theralab.chem.profile.profile_records` is the reference: one row per valid molecule with
the standardised SMILES, InChIKey, every descriptor, every rule set and the structural alerts.
Profiling MOSES molecules with it costs about 8 ms each, and most of that is work whose answer is
known in advance for an already-clean, neutral organic molecule:

* **Structural alerts** (765 SMARTS, about 4.6 ms): every catalogue entry is a plain
  ``SmartsMatcher`` with ``min_count = 1``, so it can only match when its pattern matches; a
  molecule can only contain a pattern when it holds every bit of the pattern's RDKit
  ``PatternFingerprint`` (the screen RDKit's own ``SubstructLibrary`` uses). One pattern
  fingerprint per molecule (about 0.3 ms) and a few numpy operations rule out about three
  quarters of the entries on MOSES (177 of 765 remain on average); the catalogue's own entries then check
  the survivors, in catalogue order, so hits and their order are exactly those of
  ``FilterCatalog.GetMatches``. Entries whose serialised form is not that plain matcher are
  always checked. What survives is mostly generic and recursive SMARTS, the costliest to match,
  so the alerts still take about 2 ms: the largest share of the fast profile. (An extra element
  screen, "this query atom needs one of these elements", was tried: on MOSES it removed 16 more
  entries per molecule and cost more in Python than it saved.)
* **QED** (about 1.2 ms): ``QED.properties`` recomputes cLogP on a copy (the copy loses RDKit's
  cached Crippen contributions) and matches its 116 alert SMARTS one by one. We pass
  ``QED.qed`` the same properties computed by the same RDKit calls, on the molecule itself when it
  has no explicit hydrogen atoms (``RemoveHs`` would then only copy it), with the same pattern
  screen in front of the 116 alerts.
* **Standardisation** (about 0.8 ms, five canonical SMILES): for a single-fragment molecule of
  C, N, O, F, P, S, Cl, Br, I without charges or hydrogen atoms, ``RemoveHs``, the metal
  disconnector, the reioniser, the largest-fragment chooser and the uncharger provably do nothing
  (nothing to remove, no metal, no ionised acid, one fragment, no charge), so only the normaliser
  runs; when it returns the same graph (same non-canonical SMILES) the result is the input with no
  change, exactly what the full pipeline reports. Anything else takes the full
  :func:`theralab.chem.standardize.standardize`.

Any molecule the fast path cannot handle, or on which it raises, is profiled by the reference
function itself, so odd chemistry gets the reference answer, error text included.
``tests/discovery/test_screening_profile.py`` compares both paths frame for frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pandas as pd
from rdkit import Chem

from theralab.chem.alert_screen import ScreenedQueries, catalog_screen, pattern_words, screened_qed
from theralab.chem.descriptors import DESCRIPTORS, sascorer_module
from theralab.chem.filters import ALERT_CATALOGS, RULE_SET_NAMES, alert_catalog
from theralab.chem.io import MolRecord
from theralab.chem.profile import ERROR_COLUMNS, assemble_rows, profile_records
from theralab.chem.rdkit_log import join_warnings, rdkit_messages
from theralab.chem.standardize import standardizer_tools

#: elements for which RemoveHs, the metal disconnector and the reioniser's charge corrections are no-ops
_ORGANIC = frozenset({6, 7, 8, 9, 15, 16, 17, 35, 53})


@lru_cache(maxsize=4)
def alert_screen(catalogs: tuple[str, ...] = ALERT_CATALOGS) -> ScreenedQueries:
    """One screen per process and catalogue set (building it costs about a second)."""
    return catalog_screen(alert_catalog(catalogs),
                          label=lambda e: f"{e.GetProp('FilterSet').upper()}:{e.GetDescription()}")


def fast_standardize(mol: Any) -> tuple[Any, str] | None:
    """``(mol, canonical SMILES)`` when standardisation provably changes nothing, else None."""
    if mol.GetNumAtoms() < 2:
        return None
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() not in _ORGANIC or atom.GetFormalCharge():
            return None
    if len(Chem.GetMolFrags(mol)) != 1:
        return None
    out = standardizer_tools().normalizer.normalize(mol)
    if Chem.MolToSmiles(out, canonical=False) != Chem.MolToSmiles(mol, canonical=False):
        return None
    return out, Chem.MolToSmiles(out)


_QED_INDEX = [d.name for d in DESCRIPTORS].index("qed")


def fast_profile(
    records: Sequence[MolRecord], *, standardize: bool = True, tautomer: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Same frames as ``profile_records(records, standardize=..., tautomer=...)``, faster.

    Default catalogues and rule sets only (those the screening pipeline uses).
    """
    sascorer_module()
    screen = alert_screen(ALERT_CATALOGS)
    funcs = [d.func for d in DESCRIPTORS]
    funcs[_QED_INDEX] = None  # type: ignore[call-overload]
    fast: list[tuple[int, MolRecord, str, str, list[Any], str, list[str], str]] = []
    slow: list[tuple[int, MolRecord]] = []
    errors: list[tuple[int, tuple[int, str, str, str]]] = []
    for pos, rec in enumerate(records):
        if rec.mol is None:
            errors.append((pos, (rec.row, rec.id, rec.smiles, rec.error or "invalid molecule")))
            continue
        with rdkit_messages() as rdkit:  # RDKit's warnings on this row go to its 'warnings' cell
            try:
                if standardize and tautomer:
                    raise _Slow
                if standardize:
                    std = fast_standardize(rec.mol)
                    if std is None:
                        raise _Slow
                    mol, smi = std
                else:
                    mol, smi = rec.mol, Chem.MolToSmiles(rec.mol)
                fp = pattern_words(mol)
                vals = [f(mol) if f is not None else 0.0 for f in funcs]
                vals[_QED_INDEX] = screened_qed(mol, fp)
                key = Chem.MolToInchiKey(mol)
                hits = [screen.labels[i] for i in screen.hits(mol, fp)]
            except Exception:  # noqa: BLE001 - the reference path decides (and words any error)
                slow.append((pos, rec))
                continue
        fast.append((pos, rec, smi, key, vals, "", hits, join_warnings(rec.warnings, rdkit.warnings)))
    parts = []
    if fast:
        df = assemble_rows(
            [f[1].id for f in fast], [f[1].row for f in fast], [f[1].smiles for f in fast], [f[2] for f in fast],
            [f[3] for f in fast], [f[5] for f in fast], [f[4] for f in fast], [len(f[6]) for f in fast],
            ["; ".join(f[6]) for f in fast], RULE_SET_NAMES, [f[7] for f in fast],
        )
        parts.append(df.assign(_pos=[f[0] for f in fast]))
    if slow:
        df, err = profile_records([r for _, r in slow], standardize=standardize, tautomer=tautomer)
        pos_of = {id(r): p for p, r in slow}
        by_row = {r.row: pos_of[id(r)] for _, r in slow}  # rows are unique within a chunk
        parts.append(df.assign(_pos=df["row"].map(by_row).to_numpy()))
        errors.extend((by_row[int(r)], tuple(t)) for r, t in zip(err["row"], err.itertuples(index=False), strict=True))
    if not parts:
        profiles = assemble_rows([], [], [], [], [], [], [], [], [], RULE_SET_NAMES)
    else:
        profiles = pd.concat(parts, ignore_index=True).sort_values("_pos", kind="mergesort")
        profiles = profiles.drop(columns="_pos").reset_index(drop=True)
    errors.sort(key=lambda e: e[0])
    err_df = pd.DataFrame([e[1] for e in errors], columns=ERROR_COLUMNS).astype({"row": "int64"})
    return profiles, err_df


class _Slow(Exception):
    """Internal: hand this molecule to the reference profile."""


__all__ = ["alert_screen", "fast_profile", "fast_standardize"]
