"""The screening pipeline's fast profile must give exactly the reference profile's frames.

Reference: :func:`theralab.chem.profile.profile_records`. Every column is compared with exact
equality (floats included), on drug-like molecules that take the fast path, on molecules that must
fall back (salts, charges, metals, explicit hydrogens, functional groups the normaliser redraws),
on invalid rows, and with and without standardisation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import QED

from theralab.chem.alert_screen import pattern_words, qed_alert_screen
from theralab.chem.filters import ALERT_CATALOGS, alert_catalog
from theralab.chem.io import MolRecord, parse_smiles
from theralab.chem.profile import profile_records
from theralab.discovery.screening.profile import alert_screen, fast_profile, fast_standardize

ODD = [
    "[Na+].CC(=O)[O-]",  # salt: fragment + neutralise
    "C[N+](C)(C)C",  # quaternary ammonium
    "OC(=O)c1ccccc1.[Cl-]",
    "[H]C([H])([H])O",  # explicit hydrogens
    "CS(C)=O",  # sulfoxide: the normaliser redraws it
    "C[S+](C)[O-]",
    "c1ccccc1[N+](=O)[O-]",
    "CCN=[N+]=[N-]",
    "Cl",  # one atom
    "CC(=O)O[Hg]C",  # metal
    "O=C(O)CCC(=O)O",
    "C[C@H](N)C(=O)O",
    "C/C=C/C",
    "O=Cc1ccccc1",  # an aldehyde alert
    "S=C=Nc1ccccc1",  # isothiocyanate alert
    "Oc1ccc(N=Nc2ccccc2)cc1",  # azo (PAINS / Brenk)
    "CC(=O)OC1=CC=CC=C1C(=O)O",
    "B(O)(O)c1ccccc1",
    "[2H]C([2H])([2H])c1ccccc1",
    "not a smiles",
    "C1CC",
]


def _records(smiles: list[str]) -> list[MolRecord]:
    out = []
    for i, smi in enumerate(smiles):
        mol, err = parse_smiles(smi)
        out.append(MolRecord(i + 1, f"m{i}", smi, mol, err))
    return out


@pytest.fixture(scope="module")
def library(test_data: Path, shared_data: Path) -> list[MolRecord]:
    """200 ChEMBL drug-like molecules (MoleculeNet Lipophilicity), our drugs, and the odd cases."""
    lipo = pd.read_csv(shared_data / "discovery" / "moleculenet" / "lipo.csv")["smiles"].tolist()[:200]
    drugs = pd.read_csv(test_data / "chem" / "drugs.csv")["canonical_smiles"].tolist()
    return _records([str(s) for s in lipo + drugs] + ODD)


@pytest.mark.parametrize(("standardize", "tautomer"), [(True, False), (False, False), (True, True)])
def test_fast_profile_equals_reference(library: list[MolRecord], standardize: bool, tautomer: bool) -> None:
    if tautomer:  # slow in RDKit (and always the reference path): a smaller set
        library = library[-40:]
    ref, ref_err = profile_records(library, standardize=standardize, tautomer=tautomer)
    got, got_err = fast_profile(library, standardize=standardize, tautomer=tautomer)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    pd.testing.assert_frame_equal(got_err, ref_err, check_exact=True)
    assert len(ref_err) >= 2 and len(ref) + len(ref_err) == len(library)
    assert (ref["n_alerts"] > 0).sum() >= 4  # the alert screen really had alerts to find


def test_fast_profile_of_nothing_valid() -> None:
    got, err = fast_profile(_records(["xx", ""]))
    ref, ref_err = profile_records(_records(["xx", ""]))
    assert len(got) == 0 and list(got.columns) == list(ref.columns)
    pd.testing.assert_frame_equal(err, ref_err)


def test_alert_screen_matches_catalogue_and_qed(library: list[MolRecord]) -> None:
    screen = alert_screen(ALERT_CATALOGS)
    catalog = alert_catalog(ALERT_CATALOGS)
    assert screen.words.any(axis=1).mean() > 0.9  # nearly every entry has a usable screen
    for rec in library:
        if rec.mol is None:
            continue
        fp = pattern_words(rec.mol)
        want = [f"{h.GetProp('FilterSet').upper()}:{h.GetDescription()}" for h in catalog.GetMatches(rec.mol)]
        assert [screen.labels[i] for i in screen.hits(rec.mol, fp)] == want, rec.smiles
        qed_alerts = sum(1 for a in QED.StructuralAlerts if rec.mol.HasSubstructMatch(a))
        assert len(qed_alert_screen().hits(rec.mol, fp)) == qed_alerts, rec.smiles


def test_fast_standardize_only_takes_provable_no_ops() -> None:
    clean = Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")
    out = fast_standardize(clean)
    assert out is not None and out[1] == Chem.MolToSmiles(clean)
    for smi in ("[Na+].CC(=O)[O-]", "C[N+](C)(C)C", "CS(C)=O", "CC(=O)O[Hg]C", "Cl"):
        assert fast_standardize(Chem.MolFromSmiles(smi)) is None, smi
    assert np.all(pattern_words(clean) == pattern_words(Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")))
