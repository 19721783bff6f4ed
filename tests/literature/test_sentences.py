"""Sentence boundaries: exact offsets on the cases that break naive full-stop splitting."""

from __future__ import annotations

import pytest

from theralab.literature.sentences import document_sentences, sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Rats received 5 mg/kg i.v. The drug was cleared in 1.5 h. No deaths occurred.",
            [(0, 57), (58, 77)],
        ),
        ("Smith et al. Reported it first. Drugs, e.g. Aspirin, were excluded.", [(0, 31), (32, 67)]),
        (
            "Infection with E. coli was common. Growth of P. aeruginosa (Fig. 2) was slow! Why? Unknown.",
            [(0, 34), (35, 77), (78, 82), (83, 91)],
        ),
        (
            "The dose was 0.5 mg. (See Table 1.) Effects were minor.\n\nMethods follow here",
            [(0, 20), (21, 35), (36, 55), (57, 76)],
        ),
        ("Hepatitis B. Patients were enrolled.", [(0, 12), (13, 36)]),
        ("  Leading and trailing space.  ", [(2, 29)]),
        ("Line wrapped\nmid sentence. Next one.", [(0, 26), (27, 36)]),
        ("", []),
        ("   \n  ", []),
    ],
)
def test_sentence_offsets_are_exact(text: str, expected: list[tuple[int, int]]) -> None:
    assert sentences(text) == expected


def test_decimals_and_dotted_abbreviations_do_not_split() -> None:
    text = "Doses of 2.5 mg b.i.d. Were tolerated, i.e. No toxicity was seen."
    assert sentences(text) == [(0, len(text))]


def test_document_sentences_keep_the_title_apart() -> None:
    title = "Naloxone reverses clonidine hypotension"
    abstract = "We studied rats. Naloxone was given."
    text = f"{title} {abstract}"
    spans = document_sentences(text, [(0, len(title)), (len(title) + 1, len(text))])
    assert [text[s:e] for s, e in spans] == [title, "We studied rats.", "Naloxone was given."]
    assert spans[1] == (40, 56)
