"""ConText flags on hand-placed entities: each trigger category, scope ends and pseudo-triggers."""

from __future__ import annotations

import pytest

from theralab.nlp.context import apply_context, find_triggers
from theralab.nlp.entities import Entity, bio_to_spans, normalize
from theralab.nlp.tokens import tokenize


def ent(text: str, phrase: str, etype: str = "Condition") -> Entity:
    start = text.index(phrase)
    return Entity(phrase, etype, start, start + len(phrase))


def flags(text: str, phrase: str) -> dict[str, bool]:
    e = apply_context(text, [ent(text, phrase)])[0]
    return {k: getattr(e, k) for k in ("negated", "historical", "family", "hypothetical")}


def test_tokenize_keeps_offsets_and_splits_comparators():
    text = "ALT<2.5X ULN, HbA1c≥7%"
    toks = tokenize(text)
    assert [t.text for t in toks] == ["ALT", "<", "2.5", "X", "ULN", ",", "HbA1c", "≥", "7", "%"]
    assert all(text[t.start:t.end] == t.text for t in toks)


def test_bio_decoding_opens_entity_on_stray_inside_tag():
    toks = tokenize("no prior chemotherapy")
    spans = bio_to_spans(toks, ["B-Negation", "I-Procedure", "I-Procedure"])
    assert [(s[0], s[1], s[2]) for s in spans] == [("Negation", 0, 2), ("Procedure", 3, 21)]
    assert normalize("  Type 2\u2013Diabetes ,") == "type 2-diabetes"


@pytest.mark.parametrize(("text", "phrase", "flag"), [
    ("No history of myocardial infarction", "myocardial infarction", "negated"),
    ("Patients without diabetes or hypertension", "hypertension", "negated"),
    ("HIV test negative", "HIV", "negated"),
    ("History of myocardial infarction", "myocardial infarction", "historical"),
    ("Prior chemotherapy for breast cancer", "chemotherapy", "historical"),
    ("Family history of sudden cardiac death", "sudden cardiac death", "family"),
    ("Breast cancer in a first-degree relative", "Breast cancer", "family"),
    ("Planned surgery during the study", "surgery", "hypothetical"),
    ("Women who intend to become pregnant", "pregnant", "hypothetical"),
])
def test_each_category_fires(text, phrase, flag):
    got = flags(text, phrase)
    assert got[flag], got
    assert sum(got.values()) == 1 or flag == "negated" and "history" in text.lower()


def test_plain_mentions_stay_unflagged():
    for text, phrase in [("Type 2 diabetes mellitus", "Type 2 diabetes mellitus"),
                         ("Gram negative bacteremia", "bacteremia"),
                         ("Treatment within 30 days prior to enrollment", "Treatment")]:
        assert not any(flags(text, phrase).values()), text


def test_terminator_ends_negation_scope():
    text = "No active infection but known hepatitis B"
    ents = apply_context(text, [ent(text, "infection"), ent(text, "hepatitis B")])
    assert ents[0].negated and not ents[1].negated
    assert ents[0].triggers == ["negated:no active"]  # the longest trigger wins


def test_negation_scope_is_bounded_by_window():
    text = "No " + " ".join(["word"] * 15) + " asthma"
    assert not flags(text, "asthma")["negated"]


def test_ner_negation_entities_act_as_triggers():
    text = "Free of active cancer is required; cannot have epilepsy"
    cond = ent(text, "epilepsy")
    neg = ent(text, "cannot have", "Negation")
    apply_context(text, [cond, neg])
    assert cond.negated
    assert not neg.negated  # a Negation entity is a trigger, never a target
    trig = find_triggers(tokenize("no increase in seizures"))
    assert trig == []  # pseudo-trigger blocks "no"


def test_permissive_phrases_are_not_negations():
    for text, phrase in [("Metformin with or without insulin", "insulin"),
                         ("No contraindications to general anesthesia", "general anesthesia")]:
        assert not flags(text, phrase)["negated"], text
    assert flags("Willing to refrain from alcohol during the study", "alcohol")["negated"]

