"""Note evidence: negation, family history and hypothetical mentions read with ConText (theralab.nlp)."""

from __future__ import annotations

import base64
from datetime import date

from theralab.trials.criteria.schemas import Code, Criteria, Criterion, CriterionEntity, Logic
from theralab.trials.matching.engine import explain_patient
from theralab.trials.matching.notes import find_mentions, judge

AT = date(2025, 1, 1)
NOTE = ("# History of Present Illness\n"
        "58 year-old female seen for a routine follow-up.\n"
        "Patient denies atrial fibrillation.\n"
        "Patient has a history of chronic migraine.\n"
        "Patient has asthma since childhood.\n"
        "# Family History\n"
        "Her mother had breast cancer.\n"
        "# Plan\n"
        "Return if symptoms of heart failure develop.\n")


def _ent(eid, text, codes=(), **kw):
    return CriterionEntity(id=eid, type="condition", text=text, start=0, end=len(text), normalized=text.lower(),
                           codes=[Code(system=a, code=b) for a, b in codes], **kw)


def _crit(cid, kind, ent):
    return Criterion(id=cid, kind=kind, text=ent.text, entities=[ent], logic=Logic(op="AND", args=[ent.id]))


def _load(session):
    from theralab.ehr.fhir.ingest import import_resources

    ref = {"reference": "Patient/n1"}
    resources = [
        {"resourceType": "Patient", "id": "n1", "gender": "female", "birthDate": "1966-03-02"},
        {"resourceType": "Condition", "id": "n1-htn", "subject": ref, "onsetDateTime": "2015-01-01T00:00:00Z",
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                        "code": "active"}]},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "59621000",
                              "display": "Essential hypertension (disorder)"}]}},
        {"resourceType": "DocumentReference", "id": "n1-note", "status": "current", "subject": ref,
         "date": "2024-06-01T10:00:00Z",
         "content": [{"attachment": {"contentType": "text/plain",
                                     "data": base64.b64encode(NOTE.encode()).decode()}}]},
    ]
    report = import_resources(resources, session)
    assert not report.errors, report.errors


def test_note_context_settles_or_flags_criteria(tl_env):
    from theralab.ehr import tables as store
    from theralab.runtime.db import Base, get_engine, session_scope

    Base.metadata.create_all(get_engine(), tables=store.ehr_tables())
    crit = Criteria(criteria=[
        _crit("exc-af", "exclusion", _ent("a", "atrial fibrillation", [("snomed", "49436004")])),
        _crit("exc-mig", "exclusion", _ent("b", "migraine")),  # no code: only the note can answer
        _crit("exc-hf", "exclusion", _ent("c", "heart failure")),  # only a hypothetical mention
        _crit("exc-fam", "exclusion", _ent("d", "breast cancer", family=True)),
        _crit("inc-bc", "inclusion", _ent("e", "breast cancer")),  # the mother's, not the patient's
        _crit("exc-asthma", "exclusion", _ent("f", "asthma", [("snomed", "195967001")])),  # note vs codes
        _crit("inc-htn", "inclusion", _ent("g", "hypertension", [("snomed", "38341003")])),
    ])
    with session_scope() as s:
        _load(s)
        m = explain_patient(s, crit, "n1", at=AT)
        coded_only = explain_patient(s, crit, "n1", at=AT, notes=False)
    by = {r.criterion_id: r for r in m.criteria}
    assert by["exc-af"].status == "not_met"
    note_ev = [e for e in by["exc-af"].checks[0].evidence if e.source == "note"]
    assert note_ev and note_ev[0].text == "Patient denies atrial fibrillation." and "negated" in note_ev[0].context
    assert by["exc-mig"].status == "met" and by["exc-mig"].outcome == "fail"
    assert "chronic migraine" in by["exc-mig"].checks[0].reason
    assert by["exc-hf"].status == "unknown"
    assert by["exc-fam"].status == "met"
    assert by["inc-bc"].status == "unknown"
    assert by["exc-asthma"].status == "unknown" and "note mentions it" in by["exc-asthma"].checks[0].reason
    assert by["inc-htn"].status == "met"  # SNOMED CT hierarchy: essential hypertension is-a hypertension
    assert by["inc-htn"].checks[0].evidence[0].resource == "Condition/n1-htn"
    assert m.eligibility == "ineligible"
    # without notes the coded record alone says asthma absent, migraine unknown
    by0 = {r.criterion_id: r.status for r in coded_only.criteria}
    assert by0["exc-asthma"] == "not_met" and by0["exc-mig"] == "unknown"


def test_synthetic_notes_agree_with_coded_truth(tl_env):
    """On generated notes, every note verdict about four conditions matches the coded truth."""
    from theralab.ehr.synthetic.cohort import generate_cohort
    from theralab.ehr.synthetic.vocab import CONDITIONS

    checked = 0
    for bundle in generate_cohort(80, 4):
        res = [e["resource"] for e in bundle["entry"]]
        text = next(base64.b64decode(r["content"][0]["attachment"]["data"]).decode()
                    for r in res if r["resourceType"] == "DocumentReference")
        coded = {c["code"]["coding"][0]["code"] for c in res if c["resourceType"] == "Condition"}
        family = {c["code"]["coding"][0]["code"] for r in res if r["resourceType"] == "FamilyMemberHistory"
                  for c in r["condition"]}
        for key, term in (("af", "atrial fibrillation"), ("diabetes", "type 2 diabetes"),
                          ("heart_failure", "heart failure"), ("asthma", "asthma")):
            mentions = find_mentions([("note", None, text)], [term])
            verdict, _ = judge(mentions, family=False)
            if verdict is not None:
                checked += 1
                assert verdict == (CONDITIONS[key][0] in coded), (key, text)
            fam, _ = judge(mentions, family=True)
            if fam:
                assert CONDITIONS[key][0] in family, (key, text)
    assert checked > 80


def test_negated_family_history_is_evidence_of_absence():
    text = "# Family History\nNo family history of cancer.\nHis father had colon cancer.\n"
    fam, used = judge(find_mentions([("n", None, text)], ["colon cancer"]), family=True)
    assert fam is True and used[0].sentence == "His father had colon cancer."
    fam, used = judge(find_mentions([("n", None, text)], ["cancer"]), family=True)
    assert fam is True  # the father's colon cancer outweighs the general denial
    fam, used = judge(find_mentions([("n", None, "No family history of cancer.")], ["cancer"]), family=True)
    assert fam is False and used[0].status == "family_negated"
    mine, _ = judge(find_mentions([("n", None, text)], ["colon cancer"]), family=False)
    assert mine is None  # a relative's disease says nothing about the patient
