"""Negated literature mentions from sentence-level ConText triggers."""

from __future__ import annotations

from theralab.literature.documents import Document, Mention
from theralab.literature.negation import mark_negated


def _doc(text: str, words: list[str]) -> Document:
    doc = Document(id="n", text=text)
    for w in words:
        i = text.index(w)
        doc.mentions.append(Mention(i, i + len(w), w, "Disease"))
    return doc


def test_negation_scopes_stop_at_the_sentence_and_at_but() -> None:
    text = ("There was no evidence of hepatotoxicity in rats. Cisplatin caused nephrotoxicity. "
            "Lithium did not induce seizures, but tremor was seen. Renal failure was absent.")
    doc = mark_negated(_doc(text, ["hepatotoxicity", "nephrotoxicity", "seizures", "tremor", "Renal failure"]))
    assert {m.text: m.negated for m in doc.mentions} == {
        "hepatotoxicity": True, "nephrotoxicity": False, "seizures": True, "tremor": False, "Renal failure": True,
    }


def test_pseudo_triggers_do_not_negate() -> None:
    doc = mark_negated(_doc("Doxorubicin caused no increase in cardiotoxicity.", ["cardiotoxicity"]))
    assert doc.mentions[0].negated is False
