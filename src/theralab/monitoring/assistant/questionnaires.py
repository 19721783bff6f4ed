"""Validated questionnaires: PHQ-9, PHQ-2, GAD-7, GAD-2, scored exactly and written as FHIR.

Why exact and strict: these scores drive clinical decisions (PHQ-9 >= 10 is the usual cut-off for
major depression; any answer above 0 on PHQ-9 item 9 - thoughts of being better off dead or of
self-harm - must reach a clinician whatever the total). So an answer that is not one of the four
response options is rejected with the item named, never coerced or skipped.

Scoring (Kroenke 2001, Spitzer 2006, Kroenke 2003/2007): each item 0-3 ("not at all", "several
days", "more than half the days", "nearly every day"); the total is the plain sum.
PHQ-9 bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe.
GAD-7 bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe. PHQ-2 and GAD-2 (the first two
items) screen positive at >= 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from theralab.errors import InputError

OPTIONS = ("not at all", "several days", "more than half the days", "nearly every day")

PHQ9_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself - or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite - being so "
    "fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
GAD7_ITEMS = (
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
)


@dataclass(frozen=True)
class Instrument:
    """One questionnaire: items, bands ``(low, high, label)`` and an optional screening cut-off."""

    key: str
    title: str
    items: tuple[str, ...]
    bands: tuple[tuple[int, int, str], ...]
    loinc: str | None = None
    positive_at: int | None = None

    @property
    def max_score(self) -> int:
        """Highest possible total (3 per item)."""
        return 3 * len(self.items)

    @property
    def url(self) -> str:
        """Canonical URL written into ``QuestionnaireResponse.questionnaire``."""
        return f"https://theralab.dev/fhir/Questionnaire/{self.key}"


INSTRUMENTS: dict[str, Instrument] = {
    "phq9": Instrument("phq9", "PHQ-9", PHQ9_ITEMS,
                       ((0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"),
                        (15, 19, "moderately severe"), (20, 27, "severe")), loinc="44249-1"),
    "phq2": Instrument("phq2", "PHQ-2", PHQ9_ITEMS[:2],
                       ((0, 2, "negative screen"), (3, 6, "positive screen")), loinc="55757-9", positive_at=3),
    "gad7": Instrument("gad7", "GAD-7", GAD7_ITEMS,
                       ((0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")),
                       loinc="69737-5"),
    "gad2": Instrument("gad2", "GAD-2", GAD7_ITEMS[:2],
                       ((0, 2, "negative screen"), (3, 6, "positive screen")), positive_at=3),
}

CRISIS_PROTOCOL = "suicide-risk"


@dataclass(frozen=True)
class QuestionnaireScore:
    """A scored questionnaire; ``protocol`` is ``"suicide-risk"`` when PHQ-9 item 9 is above 0."""

    instrument: str
    answers: tuple[int, ...]
    total: int
    band: str
    positive: bool | None
    protocol: str | None
    authored: datetime
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view."""
        return {"instrument": self.instrument, "answers": list(self.answers), "total": self.total,
                "band": self.band, "positive": self.positive, "protocol": self.protocol,
                "authored": self.authored.isoformat(), "notes": list(self.notes)}


def get_instrument(key: str) -> Instrument:
    """Look an instrument up by key (``phq9``, ``phq-9`` and ``PHQ 9`` all work)."""
    norm = key.lower().replace("-", "").replace(" ", "").replace("_", "")
    if norm not in INSTRUMENTS:
        raise InputError(f"unknown questionnaire {key!r}", where="instrument", hint=f"one of {', '.join(INSTRUMENTS)}")
    return INSTRUMENTS[norm]


def parse_answer(value: object, *, item: int) -> int:
    """One answer as 0-3: an int 0-3, its digit, or the response wording; anything else is an error.

    Why strict: a nonsense answer ("banana", 7, 1.5, True) must be asked again, not guessed.
    """
    where = f"item {item}"
    hint = "answer 0, 1, 2 or 3 (" + ", ".join(f"{i} = {o}" for i, o in enumerate(OPTIONS)) + ")"
    if isinstance(value, bool):
        raise InputError(f"{where}: {value!r} is not an answer", where=where, hint=hint)
    if isinstance(value, int):
        if 0 <= value <= 3:
            return value
        raise InputError(f"{where}: {value} is outside 0-3", where=where, hint=hint)
    if isinstance(value, float):
        if value.is_integer() and 0 <= value <= 3:
            return int(value)
        raise InputError(f"{where}: {value} is not one of 0, 1, 2, 3", where=where, hint=hint)
    if isinstance(value, str):
        text = " ".join(value.strip().lower().split())
        if text in ("0", "1", "2", "3"):
            return int(text)
        if text in OPTIONS:
            return OPTIONS.index(text)
        raise InputError(f"{where}: {value[:40]!r} is not a response option", where=where, hint=hint)
    raise InputError(f"{where}: {type(value).__name__} is not an answer", where=where, hint=hint)


def band_for(instrument: Instrument, total: int) -> str:
    """The severity band of ``total`` (bands are inclusive on both ends and cover 0..max)."""
    for low, high, label in instrument.bands:
        if low <= total <= high:
            return label
    raise InputError(f"total {total} outside 0-{instrument.max_score}", where="total")


def score(instrument: str, answers: list[object] | tuple[object, ...], *, authored: datetime | None = None
          ) -> QuestionnaireScore:
    """Score one completed questionnaire.

    Args:
        instrument: ``phq9``, ``phq2``, ``gad7`` or ``gad2``.
        answers: one answer per item, in order (ints 0-3 or the response wording).
        authored: when the patient answered (default now, UTC).

    Raises:
        InputError: wrong number of answers or an answer that is not a response option.
    """
    inst = get_instrument(instrument)
    if not isinstance(answers, (list, tuple)):
        raise InputError("answers must be a list", where="answers")
    if len(answers) != len(inst.items):
        raise InputError(f"{inst.title} has {len(inst.items)} items, got {len(answers)} answers", where="answers",
                         hint="answer every item, in order")
    values = tuple(parse_answer(a, item=i + 1) for i, a in enumerate(answers))
    total = sum(values)
    positive = None if inst.positive_at is None else total >= inst.positive_at
    protocol = None
    notes: list[str] = []
    if inst.key == "phq9" and values[8] > 0:
        protocol = CRISIS_PROTOCOL
        notes.append("item 9 (thoughts of death or self-harm) answered above 0: suicide-risk protocol, "
                     "whatever the total")
    if inst.key in ("phq2", "gad2") and positive:
        notes.append(f"positive screen: complete the {'PHQ-9' if inst.key == 'phq2' else 'GAD-7'}")
    return QuestionnaireScore(inst.key, values, total, band_for(inst, total), positive, protocol,
                              authored or datetime.now(UTC), notes)


def to_fhir(result: QuestionnaireScore, patient_id: str) -> dict[str, Any]:
    """The score as a FHIR R4 ``QuestionnaireResponse`` (validated with fhir.resources).

    Every item carries its integer answer and wording; the total and band are an extra item
    (linkId ``total``) so a FHIR consumer that ignores the extensions still reads the score.
    """
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    inst = get_instrument(result.instrument)
    items: list[dict[str, Any]] = [
        {"linkId": str(i + 1), "text": text,
         "answer": [{"valueCoding": {"system": "https://theralab.dev/fhir/CodeSystem/frequency-0-3",
                                     "code": str(v), "display": OPTIONS[v]}}]}
        for i, (text, v) in enumerate(zip(inst.items, result.answers, strict=True))
    ]
    items.append({"linkId": "total", "text": f"{inst.title} total score ({result.band})",
                  "answer": [{"valueInteger": result.total}]})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": inst.url,
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": result.authored.isoformat(),
        "item": items,
    }
    if inst.loinc:
        resource["meta"] = {"tag": [{"system": "http://loinc.org", "code": inst.loinc, "display": inst.title}]}
    QuestionnaireResponse.model_validate(resource)
    return resource


def from_fhir(resource: dict[str, Any]) -> QuestionnaireScore:
    """Re-score a stored ``QuestionnaireResponse`` (so the stored FHIR is the source of truth)."""
    key = str(resource.get("questionnaire", "")).rsplit("/", 1)[-1]
    answers = [int(it["answer"][0]["valueCoding"]["code"])
               for it in resource.get("item", []) if it["linkId"] != "total"]
    return score(key, answers, authored=datetime.fromisoformat(resource["authored"]))


def trend(scores: list[QuestionnaireScore], *, meaningful_change: int = 5) -> list[dict[str, Any]]:
    """Totals over time, oldest first, with the change from the previous and whether it is meaningful.

    A change of >= 5 points is the PHQ-9 minimal clinically important difference (Löwe et al. 2004),
    used here for GAD-7 too (its MCID is about 4; pass ``meaningful_change=4``).
    """
    out: list[dict[str, Any]] = []
    previous: int | None = None
    for s in sorted(scores, key=lambda s: s.authored):
        change = None if previous is None else s.total - previous
        direction = None
        if change is not None and abs(change) >= meaningful_change:
            direction = "worse" if change > 0 else "better"
        out.append({"authored": s.authored.isoformat(), "total": s.total, "band": s.band, "change": change,
                    "meaningful": direction, "protocol": s.protocol})
        previous = s.total
    return out
