"""Criteria values keep their units; trial abbreviations and drug classes get codes (issue 19)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from theralab.trials.criteria import parse_criteria
from theralab.trials.criteria.codes import lookup
from theralab.trials.criteria.rules import parse_constraints

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("urinary protein > 3.5 gm/day", "gm/day"),
        ("proteinuria > 1 g/24 h", "g/24 h"),
        ("potassium < 3.5 mEq/L", "meq/l"),
        ("RBC > 5/hpf", "/hpf"),
        ("TSH 0.5-5 mIU/L", "miu/l"),
        ("eGFR >= 30 mL/min/1.73 m2", "ml/min/1.73 m2"),
        ("hemoglobin >= 9 g/dL", "g/dl"),
    ],
)
def test_units_kept_on_every_value(text: str, unit: str) -> None:
    (c,) = parse_constraints(text)
    assert c["unit"] == unit


def test_parsed_measurement_keeps_unit() -> None:
    crit = parse_criteria("Inclusion Criteria:\n- urinary protein > 3.5 gm/day", trial_id="t")
    ent = next(e for c in crit.criteria for e in c.entities if e.type == "measurement")
    assert (ent.constraint.value, ent.constraint.unit) == (3.5, "gm/day")


@pytest.mark.parametrize(
    ("mention", "member"),
    [
        ("ARB", "52175"),  # losartan, the RxCUI patient records carry (theralab.ehr.terminology)
        ("angiotensin receptor blockers", "52175"),
        ("ACE inhibitors", "29046"),  # lisinopril
        ("SSRI", "36437"),  # sertraline
        ("statins", "83367"),  # atorvastatin
        ("NSAIDs", "5640"),  # ibuprofen
        ("anticoagulants", "11289"),  # warfarin
        ("PPI", "7646"),  # omeprazole
        ("beta blockers", "6918"),  # metoprolol
        ("systemic corticosteroids", "8640"),  # prednisone
    ],
)
def test_drug_classes_expand_to_ingredients(mention: str, member: str) -> None:
    codes, how = lookup(mention, "drug")
    assert how is not None and member in {c["code"] for c in codes}
    assert all(c["system"] == "rxnorm" for c in codes)


def test_class_members_do_not_leak_across_classes() -> None:
    arb = {c["code"] for c in lookup("ARB", "drug")[0]}
    ace = {c["code"] for c in lookup("ACE inhibitor", "drug")[0]}
    assert arb and ace and not arb & ace
    inhaled = {c["display"].split(" ")[0] for c in lookup("inhaled corticosteroids", "drug")[0]}
    assert "fluticasone" in inhaled and "prednisone" not in inhaled


def test_drug_therapy_tagged_as_a_procedure_is_coded_as_the_drug() -> None:
    """Issue 19: "ACE inhibitor therapy" (a Chia Procedure) was uncoded; the record holds it as medications."""
    from theralab.trials.criteria.schemas import CriterionEntity
    from theralab.trials.matching.atoms import entity_atom

    codes, how = lookup("ACE inhibitor therapy", "procedure")
    assert how == "drug therapy" and {c["system"] for c in codes} == {"rxnorm"}
    assert {c["code"] for c in codes} == {c["code"] for c in lookup("ACE inhibitor", "drug")[0]}
    assert lookup("radiation therapy", "procedure")[0][0]["system"] == "snomed"  # real procedures stay SNOMED CT
    assert lookup("physical therapy", "procedure") == ([], None)  # not a drug: still unmapped, never guessed
    ent = CriterionEntity(id="e1", type="procedure", text="ACE inhibitor therapy", start=0, end=21, codes=codes)
    atom = entity_atom(ent)
    assert atom.kind == "medication" and "29046" in atom.codes  # lisinopril


def test_coding_rate_counts_per_type(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("crit_coding", ROOT / "benchmarks" / "trials_criteria_coding.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["crit_coding"] = mod
    spec.loader.exec_module(mod)
    nct = next(n for n in (f"NCT{i:08d}" for i in range(100)) if mod.half(n) == "dev")
    (tmp_path / f"{nct}_inc.ann").write_text(
        "T1\tDrug 0 3\tARB\nT2\tDrug 4 10\tzzqxdrug\nT3\tCondition 0 12\thypertension\n"
        "T4\tValue 0 3\t> 5\nR1\tHas_value Arg1:T1 Arg2:T4\t\n"
    )
    items = mod.mentions(tmp_path)
    assert [(t, x) for _, t, x in items] == [("Drug", "ARB"), ("Drug", "zzqxdrug"), ("Condition", "hypertension")]
    tally, uncoded = mod.rates(items)
    assert tally[("dev", "Drug")] == (1, 2) and tally[("dev", "Condition")] == (1, 1)
    assert uncoded == {("Drug", "zzqxdrug"): 1}
