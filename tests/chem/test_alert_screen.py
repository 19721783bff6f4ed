"""The element-count screen in front of substructure alerts: what each query atom can match."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from theralab.chem.alert_screen import (
    N_ELEMENTS,
    ScreenedQueries,
    atom_elements,
    element_counts,
    element_requirements,
    pattern_words,
    query_words,
)


def _first(smarts: str) -> frozenset[int]:
    return atom_elements(Chem.MolFromSmarts(smarts).GetAtomWithIdx(0))


@pytest.mark.parametrize(
    ("smarts", "expected"),
    [
        ("[$([#44]),$([se]),Cl]", {44, 34, 17}),  # recursive alternatives: their first atoms
        ("[N&!$(N=O)&!R;H1,D2]", {7}),  # negations restrict nothing; the AND keeps N
        ("[c,n;H0;+]", {6, 7}),  # aromatic symbols are their elements
        ("[$(C(F)(F)F),$(C#N),$(N(=O)=O)]", {6, 7}),
        ("[#7&R1]", {7}),
        ("[Sc]", {21}),
    ],
)
def test_atom_elements(smarts: str, expected: set[int]) -> None:
    assert _first(smarts) == expected


@pytest.mark.parametrize("smarts", ["[!#6]", "*", "[a]", "[R2]", "[!$([#6])]", "[#0]"])
def test_atom_elements_unrestricted_is_every_element(smarts: str) -> None:
    assert len(_first(smarts)) == N_ELEMENTS  # where in doubt, a superset: never rules a molecule out


def test_element_requirements_count_distinct_atoms() -> None:
    four_n = Chem.MolFromSmarts("[N;!$(N-c)].[N;!$(N-c)].[N,n].[N]")
    assert element_requirements(four_n) == [(frozenset({7}), 4)]
    nested = Chem.MolFromSmarts("[N].[N].[N,O]")  # the {N} atoms also count towards {N, O}
    assert sorted((sorted(s), n) for s, n in element_requirements(nested)) == [([7], 2), ([7, 8], 3)]
    halo = Chem.MolFromSmarts("[Cl,Br]C(=O)c")
    assert dict((tuple(sorted(s)), n) for s, n in element_requirements(halo)) == {(17, 35): 1, (6,): 2, (8,): 1}
    assert element_requirements(Chem.MolFromSmarts("*~*")) == []


def test_screen_with_elements_keeps_every_match() -> None:
    queries = [Chem.MolFromSmarts(s) for s in ("[N].[N].[N].[N]", "[Cl,Br]C=O", "[$([#78]),$([#80])]", "C=O", "[!#6]")]
    screen = ScreenedQueries(
        [lambda m, q=q: m.HasSubstructMatch(q) for q in queries],
        np.vstack([query_words(q) for q in queries]),
        [Chem.MolToSmarts(q) for q in queries],
    ).with_elements(queries)
    smiles = ["NCCN(N)N", "NCCN", "ClC(=O)C", "CC(=O)C", "[Pt](Cl)(Cl)(N)N", "C[Hg]C", "CC", "[H]OC([H])=O"]
    mols = [Chem.MolFromSmiles(s, sanitize=True) for s in smiles]
    mols[-1] = Chem.AddHs(Chem.MolFromSmiles("OC=O"))  # explicit hydrogen atoms are atoms too
    words = np.vstack([pattern_words(m) for m in mols])
    elements = np.vstack([element_counts(m) for m in mols])
    cand = screen.candidates(words, elements)
    truth = np.array([[t(m) for t in screen.tests] for m in mols])
    assert not (truth & ~cand).any()  # exact: never drops a match
    assert not cand[1, 0] and not cand[3, 1] and not cand[6, 2] and cand[4, 2] and cand[5, 2]
    assert elements[-1][1] == 2
    for i, m in enumerate(mols):
        assert screen.hits(m, words[i], elements[i]) == list(np.flatnonzero(truth[i]))
    np.testing.assert_array_equal(screen.count(mols, words, mol_elements=elements), truth.sum(axis=1))
