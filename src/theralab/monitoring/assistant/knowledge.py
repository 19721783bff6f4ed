"""The curated knowledge base: retrieval with a confidence, personalisation from the patient's record.

Why retrieval and not generation: every sentence a patient reads comes from an entry that names its
source and review date, so a clinician can check it. When the best match is weak (cosine below
``MIN_CONFIDENCE`` on TF-IDF word and character n-grams) the assistant says it does not know and
offers a clinician instead of guessing. Personalisation only *adds* facts from the patient's own
record (their medications, PGx phenotypes, latest vitals) that the entry declares relevant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

KB_PATH = Path(__file__).resolve().parent / "data" / "knowledge.json"
MIN_CONFIDENCE = 0.30
# Words that say what kind of question it is but not what it is about: a match on these alone
# ("what is the best treatment for X?") must not count as knowing about X.
GENERIC = frozenset(
    "what how why when which who does can could should would will take taking treat treatment treatments best good "
    "bad normal cause causes causing effect effects side safe safety mean means meaning help level levels high low "
    "much many long often need get feel know tell about sign signs symptom symptoms doctor medicine medicines "
    "there their with from that this have into your my me you it is are was".split())
_WORD = __import__("re").compile(r"[a-z][a-z0-9]{2,}")
VITAL_NAMES = {"8480-6": "systolic blood pressure", "8462-4": "diastolic blood pressure", "8867-4": "heart rate",
               "59408-5": "oxygen saturation", "2708-6": "oxygen saturation", "4548-4": "HbA1c",
               "2339-0": "blood glucose"}


class Entry(BaseModel):
    """One knowledge-base entry; ``drugs``/``genes``/``vitals`` say what personalises it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=20)
    source: str = Field(min_length=3)
    url: str
    reviewed: date
    drugs: list[str] = Field(default_factory=list)
    genes: list[str] = Field(default_factory=list)
    vitals: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    """A retrieved answer (``entry`` None when confidence is too low) and its personal notes."""

    entry: Entry | None
    confidence: float
    personal: list[str]

    @property
    def known(self) -> bool:
        return self.entry is not None

    def text(self) -> str:
        """What the patient reads: the answer, personal notes, and the source with its review date."""
        if self.entry is None:
            return ("I don't know the answer to that, and I would rather not guess. I can pass your question "
                    "to a clinician - just say \"talk to a human\".")
        parts = [self.entry.answer, *self.personal,
                 f"Source: {self.entry.source} ({self.entry.url}), reviewed {self.entry.reviewed.isoformat()}."]
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"known": self.known, "confidence": round(self.confidence, 3),
                "entry": self.entry.id if self.entry else None, "source": self.entry.source if self.entry else None,
                "reviewed": self.entry.reviewed.isoformat() if self.entry else None, "personal": self.personal}


class KnowledgeBase:
    """Entries plus a TF-IDF index over their titles and example questions."""

    def __init__(self, entries: list[Entry]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        self.entries = entries
        docs, self._owner = [], []
        for i, e in enumerate(entries):
            for q in [e.title, *e.questions, " ".join(e.drugs + e.genes)]:
                if q.strip():
                    docs.append(q)
                    self._owner.append(i)
        self._vec = FeatureUnion([
            ("w", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")),
            ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
        ])
        self._matrix = self._vec.fit_transform(docs)
        self._vocab = [set(_WORD.findall(" ".join([e.title, *e.questions, e.answer, *e.drugs, *e.genes]).lower()))
                       for e in entries]

    @classmethod
    def load(cls, path: Path = KB_PATH) -> KnowledgeBase:
        data = json.loads(path.read_text())
        return cls([Entry.model_validate(e) for e in data["entries"]])

    def search(self, question: str) -> tuple[Entry | None, float]:
        """Best entry and its confidence (mean of word and character cosine, 0-1)."""
        import numpy as np

        q = self._vec.transform([question])
        sims = (self._matrix @ q.T).toarray().ravel() / 2.0  # each half is L2-normalised
        if not len(sims) or not np.isfinite(sims).all():
            return None, 0.0
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        topical = set(_WORD.findall(question.lower())) - GENERIC - ENGLISH_STOP_WORDS
        # only entries sharing a topical word with the question compete (nothing in common: not known)
        mask = np.array([bool(topical & self._vocab[o]) for o in self._owner])
        if not mask.any():
            return None, 0.0
        sims = np.where(mask, sims, -1.0)
        best = int(sims.argmax())
        return self.entries[self._owner[best]], float(sims[best])

    def answer(self, question: str, record: Any | None = None) -> Answer:
        """Retrieve, apply the confidence floor, personalise from ``record`` (a PatientRecord) if given."""
        entry, conf = self.search(question)
        if entry is None or conf < MIN_CONFIDENCE:
            return Answer(None, conf, [])
        return Answer(entry, conf, personalise(entry, record) if record is not None else [])


def personalise(entry: Entry, record: Any) -> list[str]:
    """Notes from the patient's own record that this entry declares relevant."""
    notes: list[str] = []
    meds = [m.display or "" for m in record.active_medications()]
    for drug in entry.drugs:
        hit = next((m for m in meds if drug.lower() in m.lower()), None)
        if hit:
            notes.append(f"Your record lists {hit} as a current medicine, so this applies to you; "
                         "ask your care team before changing it.")
    for gene in entry.genes:
        g = record.genotype(gene)
        if g is not None and (g.phenotype or g.diplotype):
            notes.append(f"Your {gene} result: {g.phenotype or g.diplotype}"
                         f"{f' ({g.diplotype})' if g.phenotype and g.diplotype else ''}. Your doctor can explain "
                         "what it means for your medicines.")
    latest = record.latest_values() if entry.vitals else {}
    for code in entry.vitals:
        obs = latest.get(code)
        if obs is not None and obs.value is not None:
            when = f" on {obs.effective.date().isoformat()}" if obs.effective else ""
            notes.append(f"Your latest {VITAL_NAMES.get(code, obs.display or code)}: {obs.value:g} {obs.unit or ''}"
                         f"{when}.".replace(" .", "."))
    return notes


@lru_cache(maxsize=1)
def default_kb() -> KnowledgeBase:
    """The shipped knowledge base (built once per process)."""
    return KnowledgeBase.load()
