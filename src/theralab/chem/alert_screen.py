"""Structural-alert matching with a pattern-fingerprint screen in front: same hits, a fraction of the work.

Counting PAINS, Brenk or NIH alerts (RDKit ``FilterCatalog``) and QED's 116 alerts means hundreds of
subgraph-isomorphism calls per molecule, almost all of which fail. A query can only match a
molecule when every bit of the query's RDKit ``PatternFingerprint`` is set in the molecule's (the
screen RDKit's own ``SubstructLibrary`` relies on), so one fingerprint per molecule and a few
numpy operations rule most of them out; the real matcher then runs on the survivors only.

The pattern fingerprint cannot rule out generic patterns, e.g. NIH's ``contains_metal`` (one atom,
62 recursive element alternatives, the costliest entry) or "four basic nitrogens". A second, exact
screen compares element counts: every query atom can only match atoms of certain elements (read
from RDKit's own parsed query tree, a superset where in doubt), and since a match maps query atoms
to distinct molecule atoms, for each such element set ``S`` the molecule needs at least as many
atoms in ``S`` as the query has atoms restricted to ``S`` (:func:`element_requirements`). It is
one small matrix product per block of molecules, so it pays off where the matches are expensive
(the ADMET panel: a third of the alert-matching time); callers that pass no element counts skip it.

The catalogue entries of these sets are plain ``SmartsMatcher`` objects with ``min_count = 1``;
their query molecule is read back from the entry's serialisation. An entry whose serialised form
is anything else gets all-zero screen words and is always matched, so the result is the
catalogue's own by construction. Used by the screening pipeline's profile
(``theralab.discovery.screening.profile``) and the ADMET panel's physico-chemical block
(``theralab.discovery.admet.physchem``); both are tested frame for frame against the unscreened
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
N_ELEMENTS = 128  # atomic numbers 0..127: columns of the element-count vectors
_ANY = frozenset(range(N_ELEMENTS))
_ELEMENT_NODE = re.compile(r"(AtomAtomicNum|AtomType) (\d+) = val")
_PICKLE = re.compile(rb"(\d+) (\xef\xbe\xad\xde)")  # an RDKit mol pickle (magic 0xDEADBEEF) in the archive
_PLAIN_TAIL = b" 1 4294967295 "  # SmartsMatcher min_count 1, max_count UINT_MAX


def pattern_words(mol: Chem.Mol) -> np.ndarray:
    """RDKit's pattern fingerprint as 32 ``uint64`` words (bit i of the bit string -> word i // 64)."""
    bits = Chem.PatternFingerprint(mol, fpSize=PATTERN_BITS).ToBitString()
    return np.packbits(np.frombuffer(bits.encode("ascii"), dtype=np.uint8) - 48).view(np.uint64)


def element_counts(mol: Chem.Mol) -> np.ndarray:
    """How many atoms of each atomic number ``mol`` has (explicit hydrogen atoms included), ``[128]``."""
    return np.bincount([a.GetAtomicNum() for a in mol.GetAtoms()], minlength=N_ELEMENTS)[:N_ELEMENTS]


def _recursive_parts(smarts: str) -> list[str]:
    """The top-level ``$(...)`` bodies of an atom's SMARTS, in order."""
    parts, i = [], 0
    while (j := smarts.find("$(", i)) >= 0:
        depth, k = 0, j + 1
        while k < len(smarts):
            depth += {"(": 1, ")": -1}.get(smarts[k], 0)
            if depth == 0:
                break
            k += 1
        parts.append(smarts[j + 2 : k])
        i = k + 1
    return parts


def atom_elements(atom: Chem.Atom, _depth: int = 0) -> frozenset[int]:
    """A superset of the atomic numbers ``atom`` (a query atom) can match.

    Walks RDKit's parsed query tree (``DescribeQuery``): OR is a union, AND an intersection,
    ``#n`` / element primitives give ``{n}`` (aromatic or not), a recursive ``$(...)`` gives the
    union over all of the atom's recursive parts of their first atom's set, and anything else,
    negations included, gives every element. A superset is all the screen needs to stay exact.
    """
    if not atom.HasQuery():
        return _ANY if atom.GetAtomicNum() == 0 else frozenset({atom.GetAtomicNum()})
    lines = atom.DescribeQuery().rstrip("\n").split("\n")
    recursive: frozenset[int] | None = None

    def recursive_set() -> frozenset[int]:
        nonlocal recursive
        if recursive is None:
            found: frozenset[int] = frozenset()
            parts = _recursive_parts(atom.GetSmarts()) if _depth < 8 else []
            for part in parts:
                sub = Chem.MolFromSmarts(part)
                if sub is None or sub.GetNumAtoms() == 0:
                    found = _ANY
                    break
                found |= atom_elements(sub.GetAtomWithIdx(0), _depth + 1)
            recursive = found if parts else _ANY
        return recursive

    def walk(i: int) -> tuple[frozenset[int], int]:
        body = lines[i].strip()
        if body in ("AtomOr", "AtomAnd"):
            left, i = walk(i + 1)
            right, i = walk(i)
            return (left | right if body == "AtomOr" else left & right), i
        match = _ELEMENT_NODE.fullmatch(body)
        if match:
            z = int(match.group(2)) % 1000 if match.group(1) == "AtomType" else int(match.group(2))
            return (frozenset({z}) if 0 < z < N_ELEMENTS else _ANY), i + 1
        if body.startswith("RecursiveStructure val in"):
            return recursive_set(), i + 1
        return _ANY, i + 1

    try:
        found, end = walk(0)
    except (IndexError, ValueError):
        return _ANY
    return found if end == len(lines) else _ANY


def element_requirements(query: Chem.Mol) -> list[tuple[frozenset[int], int]]:
    """``(S, n)`` pairs: a molecule matching ``query`` has at least ``n`` atoms with elements in ``S``.

    A match maps query atoms to distinct molecule atoms, so the query atoms restricted to subsets of
    ``S`` need that many distinct atoms in ``S`` (one pair per distinct restricted set).
    """
    sets = [atom_elements(a) for a in query.GetAtoms()]
    return [(s, sum(t <= s for t in sets)) for s in dict.fromkeys(sets) if s != _ANY]


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
    """Substructure tests with their screens.

    Attributes:
        tests: one callable per query, ``test(mol) -> bool`` (the real matcher).
        words: ``[n_queries, 32]`` screen words; all zero where a query is never screened out.
        labels: one label per query (for reporting hits).
        element_index: the atomic numbers of all element-screen requirements
            (:func:`element_requirements` of each query, in query order), concatenated.
        element_start: where each requirement's atomic numbers start in ``element_index``.
        element_need: the atom count each requirement needs.
        element_query: the queries that have requirements; ``element_first`` where each one's
            requirements start.

    The element screen is gathers and ``reduceat`` sums on purpose: a numpy matrix product goes to
    the BLAS, whose threads then spin on the other core (3 ms per call on the shared machine),
    and scipy's sparse products cost ~0.4 ms of overhead per call.
    """

    tests: list[Callable[[Chem.Mol], bool]]
    words: np.ndarray
    labels: list[str]
    element_index: np.ndarray | None = None
    element_start: np.ndarray | None = None
    element_need: np.ndarray | None = None
    element_query: np.ndarray | None = None
    element_first: np.ndarray | None = None

    def with_elements(self, queries: Sequence[Chem.Mol | None]) -> ScreenedQueries:
        """Add the element-count screen from each test's query (None: that query is never ruled out)."""
        rows = [(j, s, n) for j, q in enumerate(queries) if q is not None for s, n in element_requirements(q)]
        if not rows:
            return self
        sizes = [len(s) for _, s, _ in rows]
        owners = np.array([j for j, _, _ in rows])
        self.element_index = np.concatenate([sorted(s) for _, s, _ in rows]).astype(np.intp)
        self.element_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        self.element_need = np.array([n for _, _, n in rows], dtype=np.int64)
        self.element_query, self.element_first = np.unique(owners, return_index=True)
        return self

    def candidates(self, mol_words: np.ndarray, mol_elements: np.ndarray | None = None) -> np.ndarray:
        """``[n_mols, n_queries]`` bool: the queries each molecule may match.

        ``mol_elements`` (``[n_mols, 128]`` from :func:`element_counts`) adds the element screen.
        """
        cand = ~np.any(self.words[None, :, :] & ~np.atleast_2d(mol_words)[:, None, :], axis=2)
        if mol_elements is not None and self.element_index is not None:
            have = np.add.reduceat(np.atleast_2d(mol_elements)[:, self.element_index], self.element_start, axis=1)
            short = np.logical_or.reduceat(have < self.element_need, self.element_first, axis=1)
            cand[:, self.element_query] &= ~short
        return cand

    def hits(self, mol: Chem.Mol, words: np.ndarray, elements: np.ndarray | None = None) -> list[int]:
        """Indices of the queries ``mol`` matches, in query order."""
        cand = np.flatnonzero(self.candidates(words, elements)[0])
        return [int(i) for i in cand if self.tests[i](mol)]

    def count(
        self, mols: Sequence[Chem.Mol], mol_words: np.ndarray, block: int = 64, mol_elements: np.ndarray | None = None
    ) -> np.ndarray:
        """How many queries match each molecule (exactly the unscreened count)."""
        counts = np.zeros(len(mols), dtype=np.int64)
        for start in range(0, len(mols), block):
            stop = start + block
            cand = self.candidates(mol_words[start:stop], None if mol_elements is None else mol_elements[start:stop])
            for row, col in zip(*np.nonzero(cand), strict=True):
                counts[start + row] += bool(self.tests[col](mols[start + row]))
        return counts


def catalog_screen(catalog: Any, label: Callable[[Any], str] | None = None) -> ScreenedQueries:
    """Screened form of an RDKit ``FilterCatalog``: ``hits``/``count`` equal ``catalog.GetMatches``."""
    entries = [catalog.GetEntryWithIdx(i) for i in range(catalog.GetNumEntries())]
    words = np.zeros((len(entries), _WORDS), dtype=np.uint64)
    queries = [plain_query(entry.Serialize()) for entry in entries]
    for i, query in enumerate(queries):
        if query is not None:
            words[i] = query_words(query)
    labels = [label(e) if label else e.GetDescription() for e in entries]
    return ScreenedQueries([e.HasFilterMatch for e in entries], words, labels).with_elements(queries)


def _substructure_test(query: Chem.Mol) -> Callable[[Chem.Mol], bool]:
    return lambda mol: mol.HasSubstructMatch(query)


@lru_cache(maxsize=1)
def qed_alert_screen() -> ScreenedQueries:
    """QED's 116 structural alerts (``rdkit.Chem.QED.StructuralAlerts``), screened."""
    from rdkit.Chem import QED

    alerts = list(QED.StructuralAlerts)
    words = np.vstack([query_words(q) for q in alerts])
    screen = ScreenedQueries([_substructure_test(q) for q in alerts], words, [Chem.MolToSmarts(q) for q in alerts])
    return screen.with_elements(alerts)


def screened_qed(
    mol: Chem.Mol, words: np.ndarray, known: dict[str, float] | None = None, elements: np.ndarray | None = None
) -> float:
    """``rdkit.Chem.QED.qed(mol)`` bit for bit, with its ALERTS term screened.

    QED works on the hydrogen-free molecule; when ``mol`` has explicit hydrogen atoms we remove them
    and fingerprint that copy, as ``QED.properties`` does. ``known`` may carry ``MW``, ``ALOGP``,
    ``HBD`` and ``PSA`` already computed by the same RDKit calls on this very molecule (only used
    when it has no explicit hydrogens; Crippen logP alone is a third of QED's cost). ``elements``
    (:func:`element_counts` of ``mol``) adds the element screen to the alerts.
    """
    from rdkit.Chem import QED, Crippen, MolSurf
    from rdkit.Chem import rdMolDescriptors as rdmd

    if (elements[1] > 0) if elements is not None else any(a.GetAtomicNum() == 1 for a in mol.GetAtoms()):
        mol = Chem.RemoveHs(mol)
        words = pattern_words(mol)
        known = None
        elements = None if elements is None else element_counts(mol)
    known = known or {}
    props = QED.QEDproperties(
        MW=known["MW"] if "MW" in known else rdmd._CalcMolWt(mol),
        ALOGP=known["ALOGP"] if "ALOGP" in known else Crippen.MolLogP(mol),
        HBA=sum(len(mol.GetSubstructMatches(p)) for p in QED.Acceptors if mol.HasSubstructMatch(p)),
        HBD=known["HBD"] if "HBD" in known else rdmd.CalcNumHBD(mol),
        PSA=known["PSA"] if "PSA" in known else MolSurf.TPSA(mol),
        ROTB=rdmd.CalcNumRotatableBonds(mol, rdmd.NumRotatableBondsOptions.Strict),
        AROM=len(Chem.GetSSSR(Chem.DeleteSubstructs(Chem.Mol(mol), QED.AliphaticRings))),
        ALERTS=len(qed_alert_screen().hits(mol, words, elements)),
    )
    value = QED.qed(mol, qedProperties=props)
    return float(value) if math.isfinite(value) else math.nan
