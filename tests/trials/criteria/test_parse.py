"""Criteria parsing on real trial text (Chia, ClinicalTrials.gov format), JSON round trip, corrections."""

from __future__ import annotations

import pytest

from theralab.ehr.terminology import SYSTEMS, check_code
from theralab.errors import InputError, NotFoundError
from theralab.trials.criteria import (
    Criteria,
    CriteriaCorrection,
    apply_correction,
    chia_trial_text,
    parse_criteria,
)
from theralab.trials.criteria.codes import lexicon, lookup


@pytest.fixture(scope="module")
def nct00050349(shared_data):
    return parse_criteria(chia_trial_text("NCT00050349", shared_data / "trials" / "chia"), trial_id="NCT00050349")


def entity(crit: Criteria, text: str):
    for c in crit.criteria:
        for e in c.entities:
            if e.text == text:
                return c, e
    raise AssertionError(f"{text!r} not found in {[e.text for c in crit.criteria for e in c.entities]}")


def test_real_trial_sections_and_measurements(nct00050349):
    crit = nct00050349
    assert (len(crit.inclusion()), len(crit.exclusion())) == (6, 13)
    c, bili = entity(crit, "total bilirubin")
    assert c.id == "inc-2" and bili.type == "measurement"
    assert [(k.system, k.code) for k in bili.codes] == [("loinc", "1975-2")]
    assert bili.constraint.model_dump(exclude={"text"}) == {
        "comparator": "<", "value": 1.5, "value_high": None, "unit": None, "relative_to": "ULN"}
    _, kps = entity(crit, "Karnofsky Performance Status")
    assert (kps.constraint.comparator, kps.constraint.value) == (">", 60.0)
    assert kps.codes == [] and ("inc-5", kps) in crit.unmapped()  # not in the curated tables: flagged


def test_real_trial_codes_logic_and_time(nct00050349):
    crit = nct00050349
    _, hiv = entity(crit, "HIV+")
    assert {(k.system, k.code) for k in hiv.codes} == {("snomed", "86406008"), ("icd10cm", "B20")}
    c, cns = entity(crit, "CNS metastases")
    _, lepto = entity(crit, "leptomeningeal involvement")
    assert c.kind == "exclusion" and c.logic.model_dump() == {"op": "OR", "args": [cns.id, lepto.id]}
    _, window = entity(crit, "within 5 years prior to study entry")
    t = window.temporal
    assert (t.relation, t.days, t.anchor) == ("within", 1826.25, "study entry")
    _, ast = entity(crit, "AST")  # "AST, ALT<2.5X ULN": the listed measurement shares the value
    assert (ast.constraint.comparator, ast.constraint.value, ast.constraint.relative_to) == ("<", 2.5, "ULN")


def test_json_round_trip_is_exact(nct00050349):
    again = Criteria.model_validate_json(nct00050349.model_dump_json())
    assert again == nct00050349


def test_clinicaltrials_gov_format_with_typo_headers_age_and_sex():
    text = ("Inclusion Critera:\n\n  -  Male or female, aged 18-65 years\n\n  -  Type 2 diabetes mellitus with "
            "HbA1c between 7.0% and 10.5%\n\n  -  Treated with metformin for at least 3 months\n\n"
            "Exlusion criteria:\n\n  -  Age > 60 years\n\n  -  No history of myocardial infarction\n")
    crit = parse_criteria(text)
    assert [c.kind for c in crit.criteria] == ["inclusion"] * 3 + ["exclusion"] * 2
    assert crit.sex == "all"
    assert (crit.age.min_years, crit.age.max_years, crit.age.max_inclusive) == (18.0, 60.0, True)
    _, hba1c = entity(crit, "HbA1c")
    k = hba1c.constraint
    assert (k.comparator, k.value, k.value_high, k.unit) == ("between", 7.0, 10.5, "%")
    assert [(k.system, k.code) for k in hba1c.codes] == [("loinc", "4548-4")]
    _, met = entity(crit, "metformin")
    assert [(k.system, k.code) for k in met.codes] == [("rxnorm", "6809")]
    c, mi = entity(crit, "myocardial infarction")
    assert mi.negated and mi.historical and c.kind == "exclusion"


def test_top_trial_text_parses(shared_data):
    pd = pytest.importorskip("pandas")
    row = pd.read_csv(shared_data / "trials" / "top" / "phase_II_valid.csv", nrows=1).iloc[0]
    crit = parse_criteria(row["criteria"], trial_id=row["nctid"])
    assert [c.text for c in crit.criteria] == ["HER-2 overexpressing breast cancer", "Clinical stage 2-3B",
                                               "Normal ejection fraction", "Metastatic disease",
                                               "Low ejection fraction"]
    assert [c.kind for c in crit.criteria] == ["inclusion"] * 3 + ["exclusion"] * 2


def test_typo_in_a_term_still_codes():
    codes, how = lookup("diabetis mellitus", "condition")
    assert how == "fuzzy" and ("snomed", "73211009") in {(c["system"], c["code"]) for c in codes}
    assert lookup("xyzzy disease", "condition") == ([], None)


def test_every_curated_code_is_well_formed():
    for entries in lexicon().values():
        for e in entries:
            assert check_code(SYSTEMS[e.system], e.code) is None, (e.term, e.code)
            if e.icd10cm:
                assert check_code(SYSTEMS["icd10cm"], e.icd10cm) is None, (e.term, e.icd10cm)


def test_bad_input():
    with pytest.raises(InputError, match="empty"):
        parse_criteria("  \n")
    with pytest.raises(InputError, match="no criteria"):
        parse_criteria("Inclusion Criteria:\n\nExclusion Criteria:\n  - \n")
    with pytest.raises(InputError, match="default_kind"):
        parse_criteria("Diabetes", default_kind="both")
    with pytest.raises(InputError, match="NCT id"):
        chia_trial_text("12345")
    with pytest.raises(NotFoundError):
        chia_trial_text("NCT99999999", folder=__import__("pathlib").Path("/nonexistent"))


def test_corrections_apply_validate_and_replay(nct00050349):
    crit = nct00050349
    c, kps = entity(crit, "Karnofsky Performance Status")
    hiv_crit, hiv = entity(crit, "HIV+")
    _, life = entity(crit, "life expectancy")
    fix = CriteriaCorrection(author="dr-a", note="code KPS; HIV criterion is about breast cancer", edits=[
        {"op": "update_entity", "criterion_id": c.id, "entity_id": kps.id,
         "values": {"codes": [{"system": "loinc", "code": "89243-0", "display": "Karnofsky", "match": "manual"}]}},
        {"op": "update_entity", "criterion_id": "inc-4", "entity_id": life.id,
         "values": {"text": "hypertension", "type": "condition"}},
        {"op": "add_entity", "criterion_id": hiv_crit.id,
         "values": {"type": "condition", "text": "breast cancer", "start": 0, "end": 0}},  # implied
        {"op": "delete_entity", "criterion_id": hiv_crit.id, "entity_id": hiv.id},
    ])
    fixed = apply_correction(crit, fix)
    assert next(e for e in crit.get(c.id).entities if e.id == kps.id).codes == []  # the input is unchanged
    new_kps = next(e for e in fixed.get(c.id).entities if e.id == kps.id)
    assert new_kps.codes[0].code == "89243-0" and new_kps.source == "user" and fixed.get(c.id).edited
    relabelled = next(e for e in fixed.get("inc-4").entities if e.text == "hypertension")
    assert ("snomed", "38341003") in {(k.system, k.code) for k in relabelled.codes}  # re-coded
    added = fixed.get(hiv_crit.id).entities[-1]
    assert added.source == "user" and ("snomed", "254837009") in {(k.system, k.code) for k in added.codes}
    assert fixed.get(hiv_crit.id).logic is None  # its only logic entity was deleted
    assert len(fixed.corrections) == 1 and fixed.corrections[0].author == "dr-a"
    stored = Criteria.model_validate_json(fixed.model_dump_json())
    replayed = apply_correction(crit, stored.corrections[0])
    assert replayed.criteria == fixed.criteria


def test_corrections_reject_unknown_ids_and_bad_fields(nct00050349):
    with pytest.raises(InputError, match="no criterion"):
        apply_correction(nct00050349, {"edits": [{"op": "delete_criterion", "criterion_id": "inc-99"}]})
    with pytest.raises(InputError) as err:
        apply_correction(nct00050349, {"edits": [{"op": "update_entity", "criterion_id": "inc-5",
                                                  "entity_id": "inc-5-e1", "values": {"negated": "perhaps"}}]})
    assert err.value.where.startswith("edits[0]")
    with pytest.raises(InputError):
        apply_correction(nct00050349, {"edits": [{"op": "rename", "criterion_id": "inc-1"}]})
    with pytest.raises(InputError, match="outside the criterion"):
        apply_correction(nct00050349, {"edits": [{"op": "add_entity", "criterion_id": "inc-5",
                                                  "values": {"type": "drug", "text": "x", "start": 0, "end": 500}}]})


def test_logic_reads_conjunctions():
    crit = parse_criteria("Exclusion Criteria:\n- Myocardial infarction, stroke or heart failure\n"
                          "- Type 2 diabetes mellitus and hypertension\n")
    first, second = crit.criteria
    ids = [e.id for e in first.entities if e.type == "condition"]
    assert len(ids) == 3 and first.logic.model_dump() == {"op": "OR", "args": ids}
    ids2 = [e.id for e in second.entities if e.type == "condition"]
    assert len(ids2) == 2 and second.logic.model_dump() == {"op": "AND", "args": ids2}


def test_bulleted_and_wrapped_criteria_keep_source_offsets(shared_data):
    pd = pytest.importorskip("pandas")
    text = pd.read_csv(shared_data / "trials" / "top" / "phase_II_valid.csv", nrows=2).iloc[1]["criteria"]
    full = text + "\nExclusion Criteria:\n\n  -  Pregnant or breastfeeding women\n"
    crit = parse_criteria(full)
    for c in crit.criteria:
        assert full[c.start:c.end] == c.text
        assert all(c.text[e.start:e.end] == e.text for e in c.entities)
    wrapped = next(c for c in crit.criteria if "esophagitis confirmed by\n" in c.text)
    assert any("esophagogastroduodenoscopy" in e.text for e in wrapped.entities)  # tagged across the wrap
    _, preg = entity(crit, "Pregnant")
    assert ("snomed", "77386006") in {(k.system, k.code) for k in preg.codes}
    assert next(c for c in crit.criteria if preg in c.entities).kind == "exclusion"
