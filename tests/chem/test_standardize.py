"""Standardisation: each step does what it says and records the change, clean input is untouched."""

from __future__ import annotations

import pytest
from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

from theralab.chem.standardize import standardize, standardize_smiles
from theralab.errors import InputError


def test_clean_molecule_is_unchanged() -> None:
    r = standardize_smiles("CC(=O)Oc1ccccc1C(=O)O")
    assert r.changes == []
    assert r.smiles == Chem.CanonSmiles("CC(=O)Oc1ccccc1C(=O)O")


def test_salt_stripped_and_neutralised() -> None:
    r = standardize_smiles("CC(=O)[O-].[Na+]")
    assert r.smiles == "CC(=O)O"
    assert r.changes == ["removed fragment [Na+]", "neutralised (net charge -1 -> +0)"]


def test_solvent_fragments_counted() -> None:
    r = standardize_smiles("O=C(O)c1ccccc1.O.O")
    assert r.smiles == "O=C(O)c1ccccc1"
    assert r.changes == ["removed fragment O (x2)"]


def test_quaternary_ammonium_keeps_its_charge() -> None:
    r = standardize_smiles("C[N+](C)(C)C.[Cl-]")
    assert r.smiles == "C[N+](C)(C)C"
    assert r.changes == ["removed fragment [Cl-]"]


def test_metal_disconnected() -> None:
    r = standardize_smiles("CC(=O)O[Na]")
    assert r.smiles == "CC(=O)O"
    assert r.changes[0] == "disconnected metal"


def test_phenolate_neutralised() -> None:
    r = standardize_smiles("[O-]c1ccccc1")
    assert r.smiles == "Oc1ccccc1" and r.changes == ["neutralised (net charge -1 -> +0)"]


def test_tautomer_only_on_request() -> None:
    assert standardize_smiles("Oc1ccccn1").changes == []
    r = standardize_smiles("Oc1ccccn1", tautomer=True)
    assert r.smiles == "O=c1cccc[nH]1" and r.changes == ["tautomer changed"]


def test_matches_rdkit_reference_pipeline() -> None:
    """Without tautomers our result equals RDKit's own Cleanup -> FragmentParent -> Uncharger chain."""
    for smi in [
        "CC(=O)[O-].[Na+]",
        "c1ccccc1C(=O)[O-].[NH4+]",
        "CC(C)Cc1ccc(cc1)C(C)C(=O)[O-].[Na+]",
        "[O-][n+]1ccccc1",
        "CN(C)C.Cl",
    ]:
        mol = Chem.MolFromSmiles(smi)
        ref = rdMolStandardize.Cleanup(mol)
        ref = rdMolStandardize.LargestFragmentChooser(preferOrganic=True).choose(ref)
        ref = rdMolStandardize.Uncharger(canonicalOrder=True).uncharge(ref)
        assert standardize(mol).smiles == Chem.MolToSmiles(ref), smi


def test_input_is_not_modified_and_errors() -> None:
    mol = Chem.MolFromSmiles("CC(=O)[O-].[Na+]")
    standardize(mol)
    assert mol.GetNumAtoms() == 5
    with pytest.raises(InputError, match="malformed SMILES"):
        standardize_smiles("C1CC(")
