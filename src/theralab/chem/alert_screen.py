"""Structural-alert matching with a pattern-fingerprint screen in front: same hits, a fraction of the work.

Counting PAINS, Brenk or NIH alerts (RDKit ``FilterCatalog``) and QED's 116 alerts means hundreds of
subgraph-isomorphism calls per molecule, almost all of which fail. A query can only match a
molecule when every bit of the query's RDKit ``PatternFingerprint`` is set in the molecule's (the
screen RDKit's own ``SubstructLibrary`` relies on), so one fingerprint per molecule and a few
numpy operations rule most of them out; the real matcher then runs on the survivors only.

The catalogue entries of these sets are plain ``SmartsMatcher`` objects with ``min_count = 1``;
their query molecule is read back from the entry's serialisation. An entry whose serialised form
is anything else gets all-zero screen words and is always matched, so the result is the
catalogue's own by construction. Used by the screening pipeline's profile
(``theralab.discovery.screening_profile``) and the ADMET panel's physico-chemical block
(``theralab.discovery.admet_physchem``); both are tested frame for frame against the unscreened
computation.
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

PATTERN_BITS = 2048
_WORDS = PATTERN_BITS // 64
_PICKLE = re.compile(rb"(\d+) (\xef\xbe\xad\xde)")  # an RDKit mol pickle (magic 0xDEADBEEF) in the archive
_PLAIN_TAIL = b" 1 4294967295 "  # SmartsMatcher min_count 1, max_count UINT_MAX


def pattern_words(mol: Chem.Mol) -> np.ndarray:
    """RDKit's pattern fingerprint as 32 ``uint64`` words (bit i of the bit string -> word i // 64)."""
    bits = Chem.PatternFingerprint(mol, fpSize=PATTERN_BITS).ToBitString()
    return np.packbits(np.frombuffer(bits.encode("ascii"), dtype=np.uint8) - 48).view(np.uint64)


def query_words(query: Chem.Mol) -> np.ndarray:
    """Pattern-fingerprint words of a SMARTS query (ring information computed first, as matching does)."""
    query = Chem.Mol(query)
    query.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(query)
    return pattern_words(query)


def plain_query(blob: bytes) -> Chem.Mol | None:
    """The query of a serialised ``SmartsMatcher`` catalogue entry with ``min_count`` 1, else None."""
    found = list(_PICKLE.finditer(blob))
    if len(found) != 1 or not blob.startswith(b"22 serialization::archive"):
        return None
    size, start = int(found[0].group(1)), found[0].start(2)
    if not blob[start + size :].startswith(_PLAIN_TAIL):
        return None
    try:
        return Chem.Mol(blob[start : start + size])
    except Exception:  # noqa: BLE001 - an unreadable pickle just means "always check this entry"
        return None


@dataclass
class ScreenedQueries:
    """Substructure tests with their screen.

    Attributes:
        tests: one callable per query, ``test(mol) -> bool`` (the real matcher).
        words: ``[n_queries, 32]`` screen words; all zero where a query is never screened out.
        labels: one label per query (for reporting hits).
    """

    tests: list[Callable[[Chem.Mol], bool]]
    words: np.ndarray
    labels: list[str]

    def candidates(self, mol_words: np.ndarray) -> np.ndarray:
        """``[n_mols, n_queries]`` bool: the queries each molecule may match."""
        return ~np.any(self.words[None, :, :] & ~np.atleast_2d(mol_words)[:, None, :], axis=2)

    def hits(self, mol: Chem.Mol, words: np.ndarray) -> list[int]:
        """Indices of the queries ``mol`` matches, in query order."""
        cand = np.flatnonzero(~np.any(self.words & ~words, axis=1))
        return [int(i) for i in cand if self.tests[i](mol)]

    def count(self, mols: Sequence[Chem.Mol], mol_words: np.ndarray, block: int = 64) -> np.ndarray:
        """How many queries match each molecule (exactly the unscreened count)."""
        counts = np.zeros(len(mols), dtype=np.int64)
        for start in range(0, len(mols), block):
            cand = self.candidates(mol_words[start : start + block])
            for row, col in zip(*np.nonzero(cand), strict=True):
                counts[start + row] += bool(self.tests[col](mols[start + row]))
        return counts


def catalog_screen(catalog: Any, label: Callable[[Any], str] | None = None) -> ScreenedQueries:
    """Screened form of an RDKit ``FilterCatalog``: ``hits``/``count`` equal ``catalog.GetMatches``."""
    entries = [catalog.GetEntryWithIdx(i) for i in range(catalog.GetNumEntries())]
    words = np.zeros((len(entries), _WORDS), dtype=np.uint64)
    for i, entry in enumerate(entries):
        query = plain_query(entry.Serialize())
        if query is not None:
            words[i] = query_words(query)
    labels = [label(e) if label else e.GetDescription() for e in entries]
    return ScreenedQueries([e.HasFilterMatch for e in entries], words, labels)


def _substructure_test(query: Chem.Mol) -> Callable[[Chem.Mol], bool]:
    return lambda mol: mol.HasSubstructMatch(query)


@lru_cache(maxsize=1)
def qed_alert_screen() -> ScreenedQueries:
    """QED's 116 structural alerts (``rdkit.Chem.QED.StructuralAlerts``), screened."""
    from rdkit.Chem import QED

    alerts = list(QED.StructuralAlerts)
    words = np.vstack([query_words(q) for q in alerts])
    return ScreenedQueries([_substructure_test(q) for q in alerts], words, [Chem.MolToSmarts(q) for q in alerts])


def screened_qed(mol: Chem.Mol, words: np.ndarray, known: dict[str, float] | None = None) -> float:
    """``rdkit.Chem.QED.qed(mol)`` bit for bit, with its ALERTS term screened.

    QED works on the hydrogen-free molecule; when ``mol`` has explicit hydrogen atoms we remove them
    and fingerprint that copy, as ``QED.properties`` does. ``known`` may carry ``MW``, ``ALOGP``,
    ``HBD`` and ``PSA`` already computed by the same RDKit calls on this very molecule (only used
    when it has no explicit hydrogens; Crippen logP alone is a third of QED's cost).
    """
    from rdkit.Chem import QED, Crippen, MolSurf
    from rdkit.Chem import rdMolDescriptors as rdmd

    if any(a.GetAtomicNum() == 1 for a in mol.GetAtoms()):
        mol = Chem.RemoveHs(mol)
        words = pattern_words(mol)
        known = None
    known = known or {}
    props = QED.QEDproperties(
        MW=known["MW"] if "MW" in known else rdmd._CalcMolWt(mol),
        ALOGP=known["ALOGP"] if "ALOGP" in known else Crippen.MolLogP(mol),
        HBA=sum(len(mol.GetSubstructMatches(p)) for p in QED.Acceptors if mol.HasSubstructMatch(p)),
        HBD=known["HBD"] if "HBD" in known else rdmd.CalcNumHBD(mol),
        PSA=known["PSA"] if "PSA" in known else MolSurf.TPSA(mol),
        ROTB=rdmd.CalcNumRotatableBonds(mol, rdmd.NumRotatableBondsOptions.Strict),
        AROM=len(Chem.GetSSSR(Chem.DeleteSubstructs(Chem.Mol(mol), QED.AliphaticRings))),
        ALERTS=len(qed_alert_screen().hits(mol, words)),
    )
    value = QED.qed(mol, qedProperties=props)
    return float(value) if math.isfinite(value) else math.nan
