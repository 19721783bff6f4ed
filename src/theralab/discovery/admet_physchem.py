"""ADMET-AI's eleven physico-chemical properties, with structural alerts screened before matching.

ADMET-AI counts PAINS (480 patterns), Brenk (105) and NIH (180) alerts with RDKit's
``FilterCatalog.GetMatches`` and computes QED, whose ALERTS term runs 116 more substructure
matches. That is ~880 subgraph-isomorphism calls per molecule and most of the panel's non-neural
time. Almost all of them fail, and RDKit's pattern fingerprint proves most failures up front: a
query can only match a molecule if every bit of the query's pattern fingerprint is set in the
molecule's (this is the screen RDKit's own ``SubstructLibrary`` relies on). We therefore:

* take each catalogue entry's query molecule out of its serialisation (every entry of these three
  catalogues is a single SMARTS matcher with ``minCount = 1``, checked at load time; an entry that
  is not is always matched, never screened);
* compute the pattern fingerprints of all queries once, and of each molecule once;
* screen all queries against a block of molecules with one vectorised ``numpy`` test;
* run the real matcher (the catalogue entry's own ``HasFilterMatch``, or ``HasSubstructMatch`` for
  QED) only on the survivors.

The counts are therefore the catalogue's counts by construction; ``tests/discovery`` and
``benchmarks/admet_panel.py`` check them against ADMET-AI's on real molecules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from rdkit import Chem

FP_BITS = 2048
_WORDS = FP_BITS // 64
_PICKLE_MAGIC = b"\xef\xbe\xad\xde"
_ALWAYS = np.zeros(_WORDS, dtype=np.uint64)  # an all-zero query fingerprint never screens anything out


def pattern_words(mol: Chem.Mol) -> np.ndarray:
    """RDKit's pattern fingerprint (2048 bits) as 32 ``uint64`` words."""
    bits = np.frombuffer(Chem.PatternFingerprint(mol, fpSize=FP_BITS).ToBitString().encode(), dtype=np.uint8) - 48
    return np.packbits(bits, bitorder="little").view(np.uint64)


def _entry_query(entry: Any) -> Chem.Mol | None:
    """The query molecule of a single-SMARTS catalogue entry with ``minCount >= 1``, else None.

    The boost text archive of a ``SmartsMatcher`` entry reads ``... <name-length> <name>
    <pickle-length> <mol pickle> <minCount> <maxCount> ...``. Anything that does not parse exactly
    so returns None, and the caller then always runs the entry's matcher (no screening).
    """
    blob = entry.Serialize()
    start = blob.find(_PICKLE_MAGIC)
    if start < 0:
        return None
    head = re.search(rb" (\d+) $", blob[:start])
    if head is None:
        return None
    end = start + int(head.group(1))
    tail = re.match(rb" (\d+) (\d+) ", blob[end:])
    if tail is None or int(tail.group(1)) < 1:
        return None
    try:
        query = Chem.Mol(blob[start:end])
    except Exception:  # noqa: BLE001 - an unreadable pickle just disables screening for this entry
        return None
    return query if query.GetNumAtoms() else None


@dataclass
class ScreenedQueries:
    """A list of substructure tests with their pattern-fingerprint screen.

    Attributes:
        tests: one callable per query, ``test(mol) -> bool`` (the real matcher).
        words: ``[n_queries, 32]`` pattern-fingerprint words; all zero where a query is never screened.
    """

    tests: list[Callable[[Chem.Mol], bool]]
    words: np.ndarray

    def candidates(self, mol_words: np.ndarray) -> np.ndarray:
        """``[n_mols, n_queries]`` bool: queries a molecule may match (every query bit set in the molecule)."""
        missing = self.words[None, :, :] & ~mol_words[:, None, :]
        return ~missing.any(axis=2)

    def count(self, mols: Sequence[Chem.Mol], mol_words: np.ndarray, block: int = 64) -> np.ndarray:
        """How many queries match each molecule (exactly the unscreened count)."""
        counts = np.zeros(len(mols), dtype=np.int64)
        for start in range(0, len(mols), block):
            cand = self.candidates(mol_words[start : start + block])
            for row, col in zip(*np.nonzero(cand), strict=True):
                counts[start + row] += bool(self.tests[col](mols[start + row]))
        return counts


def screened_catalog(catalog: Any) -> ScreenedQueries:
    """Screened form of an RDKit ``FilterCatalog`` (counts equal ``len(catalog.GetMatches(mol))``)."""
    tests, words = [], []
    for i in range(catalog.GetNumEntries()):
        entry = catalog.GetEntryWithIdx(i)
        query = _entry_query(entry)
        tests.append(entry.HasFilterMatch)
        words.append(_ALWAYS if query is None else pattern_words(query))
    return ScreenedQueries(tests, np.vstack(words))


def _screened_smarts(queries: Sequence[Chem.Mol]) -> ScreenedQueries:
    return ScreenedQueries([q_match(q) for q in queries], np.vstack([pattern_words(q) for q in queries]))


def q_match(query: Chem.Mol) -> Callable[[Chem.Mol], bool]:
    """``mol.HasSubstructMatch(query)`` as a one-argument test."""
    return lambda mol: mol.HasSubstructMatch(query)


@lru_cache(maxsize=1)
def _alerts() -> dict[str, ScreenedQueries]:
    from admet_ai import physchem as ap
    from rdkit.Chem import QED

    return {
        "PAINS_alert": screened_catalog(ap.catalog_pains),
        "BRENK_alert": screened_catalog(ap.catalog_brenk),
        "NIH_alert": screened_catalog(ap.catalog_nih),
        "QED_ALERTS": _screened_smarts(QED.StructuralAlerts),
    }


def _qed(mol: Chem.Mol, alerts: int, known: dict[str, float] | None = None) -> float:
    """RDKit's QED (mean weights) of a hydrogen-free molecule with the ALERTS count supplied.

    Every other term is computed exactly as ``rdkit.Chem.QED.properties`` computes it, except that
    weight, logP, HBD and TPSA are taken from ``known`` when the caller already computed them with
    the same RDKit functions on the same molecule (Crippen logP alone is a third of QED's cost).
    """
    from rdkit.Chem import QED, Crippen, MolSurf
    from rdkit.Chem import rdMolDescriptors as rdmd

    known = known or {}
    props = QED.QEDproperties(
        MW=known["MW"] if "MW" in known else rdmd._CalcMolWt(mol),
        ALOGP=known["ALOGP"] if "ALOGP" in known else Crippen.MolLogP(mol),
        HBA=sum(len(mol.GetSubstructMatches(p)) for p in QED.Acceptors if mol.HasSubstructMatch(p)),
        HBD=known["HBD"] if "HBD" in known else rdmd.CalcNumHBD(mol),
        PSA=known["PSA"] if "PSA" in known else MolSurf.TPSA(mol),
        ROTB=rdmd.CalcNumRotatableBonds(mol, rdmd.NumRotatableBondsOptions.Strict),
        AROM=len(Chem.GetSSSR(Chem.DeleteSubstructs(Chem.Mol(mol), QED.AliphaticRings))),
        ALERTS=alerts,
    )
    value = QED.qed(mol, qedProperties=props)
    return float(value) if math.isfinite(value) else math.nan


def physchem_table(mols: Sequence[Chem.Mol]) -> np.ndarray:
    """``[n, 11]`` ADMET-AI physico-chemical properties in its column order (see ``admet_panel.PHYSCHEM``).

    Same RDKit functions as ``admet_ai.physchem``; Lipinski reuses weight, logP, HBA and HBD instead
    of recomputing them, and the four alert counts go through the pattern-fingerprint screen.
    """
    from admet_ai import physchem as ap

    mols = list(mols)
    out = np.zeros((len(mols), 11), dtype=float)
    if not mols:
        return out
    words = np.vstack([pattern_words(m) for m in mols])
    # QED works on the hydrogen-free molecule (as RDKit's QED does); it only differs with explicit Hs.
    no_h = [Chem.RemoveHs(m) for m in mols]
    qed_words = np.vstack(
        [w if h.GetNumAtoms() == m.GetNumAtoms() else pattern_words(h)
         for m, h, w in zip(mols, no_h, words, strict=True)]
    )
    screens = _alerts()
    qed_alerts = screens["QED_ALERTS"].count(no_h, qed_words)
    for col, name in ((8, "PAINS_alert"), (9, "BRENK_alert"), (10, "NIH_alert")):
        out[:, col] = screens[name].count(mols, words)
    for i, mol in enumerate(mols):
        mw, logp = ap.MolWt(mol), ap.MolLogP(mol)
        hba, hbd, tpsa = ap.CalcNumHBA(mol), ap.CalcNumHBD(mol), ap.CalcTPSA(mol)
        same = no_h[i].GetNumAtoms() == mol.GetNumAtoms()  # no explicit Hs: QED sees this very molecule
        known = {"MW": mw, "ALOGP": logp, "HBD": hbd, "PSA": tpsa} if same else None
        out[i, :8] = (
            mw,
            logp,
            hba,
            hbd,
            float(sum([mw <= 500, logp <= 5, hba <= 10, hbd <= 5])),
            _qed(no_h[i], int(qed_alerts[i]), known),
            ap.CalcNumAtomStereoCenters(mol),
            tpsa,
        )
    return out
