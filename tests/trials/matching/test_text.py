"""Free-text patient descriptions (TREC style): age, sex and ConText-read mentions decide criteria."""

from __future__ import annotations

from theralab.trials.criteria.schemas import AgeRule, Code, Criteria, Criterion, CriterionEntity, Logic
from theralab.trials.matching.text import match_text, read_description

DESC = ("A 62-year-old woman with type 2 diabetes and hypertension presents with chest pain. "
        "She denies any history of asthma. Her mother had breast cancer.")


def _c(cid, kind, text, codes=(), **kw):
    e = CriterionEntity(id=f"{cid}-e", type="condition", text=text, start=0, end=len(text),
                        codes=[Code(system=a, code=b) for a, b in codes], **kw)
    return Criterion(id=cid, kind=kind, text=text, entities=[e], logic=Logic(op="AND", args=[e.id]))


def test_read_description():
    p = read_description(DESC)
    assert (p.age, p.sex) == (62.0, "female")
    assert read_description("58 yo male with COPD").age == 58.0


def test_match_text_open_world():
    crit = Criteria(criteria=[
        Criterion(id="inc-age", kind="inclusion", text="Age 18-65", age=AgeRule(min_years=18, max_years=65)),
        _c("inc-dm", "inclusion", "diabetes", [("snomed", "73211009")]),
        _c("exc-asthma", "exclusion", "asthma", [("snomed", "195967001")]),
        _c("exc-bc", "exclusion", "breast cancer", [("snomed", "254837009")]),
        _c("exc-copd", "exclusion", "COPD"),
    ])
    r = match_text(crit, DESC)
    by = {c["id"]: c for c in r["criteria"]}
    assert by["inc-age"]["status"] == "met"
    assert by["inc-dm"]["status"] == "met"  # 'type 2 diabetes' found through the code's synonyms
    assert by["exc-asthma"]["status"] == "not_met"  # denied
    assert by["exc-bc"]["status"] == "unknown"  # the mother's, not hers
    assert by["exc-copd"]["status"] == "unknown"  # not mentioned: open world, not 'absent'
    assert r["prediction"] == "eligible"
    older = match_text(crit, DESC.replace("62-year-old", "71-year-old"))
    assert older["prediction"] == "excluded" and older["failed"] == ["inc-age"]


def test_qualified_concept_needs_its_qualifier():
    e = CriterionEntity(id="e", type="condition", text="hypertension", start=13, end=25, qualifiers=["uncontrolled"],
                        codes=[Code(system="snomed", code="38341003")])
    crit = Criteria(criteria=[Criterion(id="exc-1", kind="exclusion", text="Uncontrolled hypertension",
                                        entities=[e], logic=Logic(op="AND", args=["e"]))])
    plain = match_text(crit, "A 50-year-old man with hypertension, well treated with lisinopril.")
    assert plain["criteria"][0]["status"] == "unknown" and plain["prediction"] == "eligible"
    bad = match_text(crit, "A 50-year-old man with uncontrolled hypertension despite three drugs.")
    assert bad["criteria"][0]["status"] == "met" and bad["prediction"] == "excluded"
