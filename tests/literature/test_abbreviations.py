"""Schwartz-Hearst abbreviation definitions with exact offsets, and their propagation to short forms."""

from __future__ import annotations

from theralab.literature.abbreviations import find_abbreviations, short_form_spans
from theralab.literature.documents import Document, Mention
from theralab.literature.ner.pipeline import propagate_abbreviations


def test_long_and_short_forms_with_offsets() -> None:
    text = "Patients with non-small cell lung cancer (NSCLC) got 5-fluorouracil (5-FU, Adrucil). NSCLC recurred."
    found = {a.short: a for a in find_abbreviations(text)}
    assert set(found) == {"NSCLC", "5-FU"}
    a = found["NSCLC"]
    assert a.long == "non-small cell lung cancer"
    assert (a.long_start, a.long_end, a.short_start, a.short_end) == (14, 40, 42, 47)
    assert text[a.long_start : a.long_end] == a.long and text[a.short_start : a.short_end] == "NSCLC"
    assert found["5-FU"].long == "5-fluorouracil"
    assert short_form_spans(text, "NSCLC") == [(42, 47), (85, 90)]


def test_not_definitions() -> None:
    assert find_abbreviations("Rats (n = 12) responded (p < 0.05) to adenosine A(2A) agonists.") == []
    text = "Use of NSAIDs (non-steroidal anti-inflammatory drugs) is common."
    [a] = find_abbreviations(text)
    assert (a.short, a.long) == ("NSAIDs", "non-steroidal anti-inflammatory drugs")


def test_short_forms_take_the_long_forms_type_and_identifier() -> None:
    text = "Acute renal failure (ARF) followed cisplatin. ARF resolved. ARF-like ACE inhibitors (ACE) too."
    doc = Document(id="1", text=text, mentions=[
        Mention(0, 19, "Acute renal failure", "Disease", "MESH:D058186", 0.9),
        Mention(46, 49, "ARF", "Chemical", None, 0.4),  # the tagger got this one wrong
    ])
    propagate_abbreviations(doc)
    arf = [m for m in doc.mentions if m.text == "ARF"]
    assert [(m.start, m.end, m.type, m.identifier, m.source) for m in arf] == [
        (21, 24, "Disease", "MESH:D058186", "abbreviation"),
        (46, 49, "Disease", "MESH:D058186", "abbreviation"),
    ]  # "ARF-like" is not the short form
