"""Rule sets on known drugs and structural alerts on known PAINS / Brenk / NIH hits."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from theralab.chem.descriptors import compute_descriptors
from theralab.chem.filters import (
    ALERT_CATALOGS,
    RULE_SETS,
    Criterion,
    alert_catalog,
    alerts_text,
    evaluate_rules,
    find_alerts,
    parse_alerts_text,
)
from theralab.errors import InputError

DRUGS = {
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "caffeine": "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
    "ibuprofen": "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "propranolol": "CC(C)NCC(O)COc1cccc2ccccc12",
    "cyclosporin": "CC[C@H]1C(=O)N(CC(=O)N([C@H](C(=O)N[C@H](C(=O)N([C@H](C(=O)N[C@H](C(=O)N[C@@H](C(=O)"
    "N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N1)[C@@H]([C@H](C)C/C=C/C)O)C)C(C)C)C)CC(C)C)C)"
    "CC(C)C)C)C)C)CC(C)C)C)C(C)C)CC(C)C)C)C",
}


def _rules(names: list[str]) -> tuple[list[str], pd.DataFrame]:
    mols = [Chem.MolFromSmiles(DRUGS[n]) for n in names]
    return names, evaluate_rules(compute_descriptors(mols)).set_index(pd.Index(names, name="drug"))


def test_known_oral_drugs_pass_lipinski_and_veber() -> None:
    _, res = _rules(["aspirin", "caffeine", "ibuprofen", "paracetamol", "propranolol"])
    assert res["lipinski_pass"].all() and (res["lipinski_violations"] == 0).all()
    assert res["veber_pass"].all() and res["egan_pass"].all()


def test_cyclosporin_breaks_lipinski_veber_egan_ghose() -> None:
    _, res = _rules(["cyclosporin"])
    row = res.loc["cyclosporin"]
    # MW 1202.6 > 500 and N+O = 23 > 10; cLogP 3.27 and NH+OH 5 are within bounds
    assert row["lipinski_violations"] == 2 and not row["lipinski_pass"]
    assert row["lipinski_failed"] == "mw<=500; hba_lipinski<=10"
    assert not row["veber_pass"] and row["veber_failed"] == "rotatable_bonds<=10; tpsa<=140"
    assert not row["egan_pass"] and row["egan_failed"] == "tpsa<=131.6"
    assert not row["ghose_pass"] and row["ghose_violations"] == 3


def test_ghose_and_leadlike_boundaries() -> None:
    _, res = _rules(["caffeine", "propranolol", "aspirin"])
    assert res.loc["caffeine", "ghose_failed"] == "-0.4<=clogp<=5.6"  # cLogP -1.03
    assert res.loc["propranolol", "leadlike_pass"]  # MW 259.3, cLogP 2.58, 6 rotatable bonds
    assert res.loc["aspirin", "leadlike_failed"] == "250<=mw<=350"


def test_one_lipinski_violation_is_allowed() -> None:
    df = pd.DataFrame({"mw": [501.0, 501.0], "clogp": [4.0, 5.1], "hbd_lipinski": [1, 1], "hba_lipinski": [2, 2]})
    res = evaluate_rules(df, ["lipinski"])
    assert res["lipinski_pass"].tolist() == [True, False]
    assert res["lipinski_violations"].tolist() == [1, 2]


def test_criterion_bounds_inclusive() -> None:
    c = Criterion("mw", 160, 480)
    assert c.violated(np.array([159.99, 160.0, 480.0, 480.01])).tolist() == [True, False, False, True]
    assert {r.name for r in RULE_SETS} == {"lipinski", "veber", "ghose", "egan", "leadlike"}


def test_rule_errors() -> None:
    with pytest.raises(InputError, match="unknown rule set"):
        evaluate_rules(pd.DataFrame({"mw": [1.0]}), ["nope"])
    with pytest.raises(InputError, match="needs descriptor 'clogp'"):
        evaluate_rules(pd.DataFrame({"mw": [1.0]}), ["egan"])


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        # 5-benzylidene rhodanine: the textbook PAINS (Baell & Holloway 2010, family A)
        (
            "O=C1C(=Cc2ccccc2)SC(=S)N1",
            {
                "PAINS_A:ene_rhod_A(235)",
                "BRENK:Michael_acceptor_1",
                "BRENK:Thiocarbonyl_group",
                "NIH:rhodanine",
            },
        ),
        ("O=C1C=CC(=O)C=C1", {"PAINS_A:quinone_A(370)", "BRENK:chinone_1", "NIH:para_quinone"}),
        ("Oc1ccccc1O", {"PAINS_B:catechol_A(92)", "BRENK:catechol", "NIH:ortho_hydroquinone"}),
        ("CCOC(=O)c1c(N)sc2c1CCCC2", {"PAINS_B:thiophene_amino_Aa(45)"}),
        # promazine, a phenothiazine drug flagged by PAINS family C
        ("CN(C)CCCN1c2ccccc2Sc2ccccc21", {"PAINS_C:het_thio_666_A(13)"}),
        ("c1ccc(cc1)N=Nc1ccc(N(C)C)cc1", {"PAINS_A:azo_A(324)", "BRENK:diazo_group", "NIH:azo_aryl"}),
    ],
)
def test_known_alert_hits(smiles: str, expected: set[str]) -> None:
    found = {str(a) for a in find_alerts(Chem.MolFromSmiles(smiles))}
    assert expected <= found


def test_clean_drug_has_no_pains_and_catalog_subsets() -> None:
    caffeine = Chem.MolFromSmiles(DRUGS["caffeine"])
    assert find_alerts(caffeine) == []
    rhod = Chem.MolFromSmiles("O=C1C(=Cc2ccccc2)SC(=S)N1")
    only_pains = find_alerts(rhod, ["PAINS_A", "PAINS_B", "PAINS_C"])
    assert [str(a) for a in only_pains] == ["PAINS_A:ene_rhod_A(235)"]
    # the catalogue is built once and reused
    assert alert_catalog(ALERT_CATALOGS) is alert_catalog(ALERT_CATALOGS)
    assert alert_catalog(ALERT_CATALOGS).GetNumEntries() == 16 + 55 + 409 + 105 + 180
    with pytest.raises(InputError, match="unknown alert catalogue"):
        find_alerts(rhod, ["ZINC_BAD"])


def test_alert_atoms_and_text_round_trip() -> None:
    mol = Chem.MolFromSmiles("O=C1C(=Cc2ccccc2)SC(=S)N1")
    alerts = find_alerts(mol, ["NIH"], with_atoms=True)
    assert alerts[0].description == "rhodanine"
    # the rhodanine ring (C1, C2, S, C(=S), N) and its exocyclic O, S and C=C carbon
    ring = {a.GetIdx() for a in mol.GetAtoms() if a.IsInRingSize(5)}
    assert ring <= set(alerts[0].atoms)
    text = alerts_text(alerts)
    assert text == "NIH:rhodanine"
    assert [(a.catalog, a.description) for a in parse_alerts_text(text)] == [("NIH", "rhodanine")]


def test_alert_match_can_be_drawn_highlighted() -> None:
    """An alert's atoms highlight in the SVG; per-atom weights colour atoms (the heatmap hook)."""
    from theralab.chem.depict import mol_to_svg

    mol = Chem.MolFromSmiles("O=C1C(=Cc2ccccc2)SC(=S)N1")
    atoms = find_alerts(mol, ["PAINS_A"], with_atoms=True)[0].atoms
    plain = mol_to_svg(mol)
    marked = mol_to_svg(mol, highlight=atoms, legend="ene_rhod_A")
    assert plain.startswith("<svg") and "class='legend'" in marked and "class='legend'" not in plain
    assert "#FF8C8C" in marked and "#FF8C8C" not in plain  # the highlight colour (1.0, 0.55, 0.55)
    weights = [1.0 if i == 0 else -1.0 if i == 5 else 0.0 for i in range(mol.GetNumAtoms())]
    heat = mol_to_svg(mol, atom_weights=weights)
    discs = re.findall(r"<ellipse[^>]*", heat)
    assert len(discs) == 2 and "<ellipse" not in plain  # only the two weighted atoms get a disc
    assert any("#FF0000" in d for d in discs) and any("#0000FF" in d for d in discs)  # +1 red, -1 blue
    with pytest.raises(InputError, match="atom_weights has 2 values"):
        mol_to_svg(mol, atom_weights=[1.0, 2.0])
    with pytest.raises(InputError, match="out of range"):
        mol_to_svg(mol, highlight=[99])
