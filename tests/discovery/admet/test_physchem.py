"""The screened alert counts and QED must equal ADMET-AI's unscreened RDKit computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

pytest.importorskip("admet_ai")

# Molecules that exercise the edge cases: explicit hydrogens (QED removes them), metals (NIH's
# contains_metal), charged and salt forms, PAINS-like rhodanines and catechols, nitro aromatics.
EDGE_CASES = [
    "[H]OC([H])([H])c1ccccc1",
    "[Pt](Cl)(Cl)(N)N",
    "[Na+].[O-]C(=O)c1ccccc1O",
    "O=C1SC(=S)NC1=Cc1ccccc1",
    "Oc1ccccc1O",
    "O=[N+]([O-])c1cc([N+](=O)[O-])cc([N+](=O)[O-])c1",
    "C=CC(=O)OCC",
    "c1ccc2cc3ccccc3cc2c1",
    "CC(=O)Oc1ccccc1C(=O)O",
    "C",
]


@pytest.fixture(scope="module")
def molecules(shared_data):
    frame = pd.read_csv(shared_data / "discovery" / "moleculenet" / "lipo.csv")
    smiles = frame["smiles"].iloc[::14].head(300).tolist() + EDGE_CASES
    return smiles, [Chem.MolFromSmiles(s) for s in smiles]


def test_physchem_table_equals_admet_ai(molecules):
    from admet_ai.physchem import compute_physicochemical_properties

    from theralab.discovery.admet.panel import PHYSCHEM
    from theralab.discovery.admet.physchem import physchem_table

    smiles, mols = molecules
    ref = compute_physicochemical_properties(all_smiles=smiles, mols=mols)
    assert list(ref.columns) == list(PHYSCHEM)
    ours = physchem_table(mols)
    np.testing.assert_array_equal(ours, ref.to_numpy(dtype=float))  # exact: same RDKit arithmetic
    assert ours[:, 8:].sum() > 0  # the set does trigger alerts, so the screen is really exercised


def test_screen_never_drops_a_matching_entry(molecules):
    from admet_ai import physchem as ap

    from theralab.chem.alert_screen import element_counts, pattern_words
    from theralab.discovery.admet.physchem import alert_screens

    _, mols = molecules
    words = np.vstack([pattern_words(m) for m in mols])
    elements = np.vstack([element_counts(m) for m in mols])
    for key, catalog in (
        ("PAINS_alert", ap.catalog_pains),
        ("BRENK_alert", ap.catalog_brenk),
        ("NIH_alert", ap.catalog_nih),
    ):
        screen = alert_screens()[key]
        assert screen.words.shape == (catalog.GetNumEntries(), 32)
        assert (screen.words != 0).any(axis=1).all()  # every entry's query was recovered and screens
        fingerprint_only = screen.candidates(words)
        candidates = screen.candidates(words, elements)
        assert candidates.mean() < 0.7  # and the screens remove most of the work
        assert not (candidates & ~fingerprint_only).any()  # the element screen only removes
        for i, mol in enumerate(mols):
            matched = {m.GetDescription() for m in catalog.GetMatches(mol)}
            kept = {catalog.GetEntryWithIdx(int(j)).GetDescription() for j in np.nonzero(candidates[i])[0]}
            assert matched <= kept, (Chem.MolToSmiles(mol), key, matched - kept)
    # NIH's generic patterns are where the element screen pays: contains_metal (one atom, 62 recursive
    # element alternatives) is kept by the pattern fingerprint for every molecule, and now only for
    # the molecules that hold one of its elements
    from theralab.chem.alert_screen import atom_elements, plain_query

    nih = alert_screens()["NIH_alert"]
    j = nih.labels.index("contains_metal")
    metals = atom_elements(plain_query(ap.catalog_nih.GetEntryWithIdx(j).Serialize()).GetAtomWithIdx(0))
    assert {78, 80, 34, 26} <= metals and not metals & {1, 6, 7, 8, 9, 11, 15, 16, 17, 35, 53}
    assert nih.candidates(words)[:, j].all()
    has_metal = elements[:, sorted(metals)].sum(axis=1) > 0
    assert has_metal.sum() >= 1  # cisplatin
    np.testing.assert_array_equal(nih.candidates(words, elements)[:, j], has_metal)


def test_qed_alert_screen_with_elements_keeps_every_match(molecules):
    from rdkit.Chem import QED

    from theralab.chem.alert_screen import element_counts, pattern_words, qed_alert_screen

    _, mols = molecules
    screen = qed_alert_screen()
    for mol in mols:
        mol = Chem.RemoveHs(mol)  # QED matches its alerts on the hydrogen-free molecule
        expected = [j for j, q in enumerate(QED.StructuralAlerts) if mol.HasSubstructMatch(q)]
        assert screen.hits(mol, pattern_words(mol), element_counts(mol)) == expected
