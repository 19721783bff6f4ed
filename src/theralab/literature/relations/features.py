"""Features of a (chemical, disease) concept pair in one document, for the CID classifier.

Why document-level pairs: BioCreative V CDR annotates chemical-induced disease relations per
abstract between concept identifiers, not per mention, and about a third of them are never stated
inside one sentence. The classifier therefore sees, per pair, how the two concepts are spread over
the document (counts, title mentions, how close their mentions come), what the sentences they share
say ("induced", "toxicity", negation), and how often each concept was an inducing chemical or an
induced disease in the training abstracts (a prior that curated databases such as CTD provide to
published systems; here it comes from the training set only, out-of-fold while training).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from theralab.literature.documents import Document, Mention

TRIGGERS = {
    "induc": re.compile(r"induc", re.I),
    "cause": re.compile(r"\bcaus|\bresult(?:ed|ing)? in|\bled to|\blead to|\bprovok|\bprecipitat", re.I),
    "assoc": re.compile(r"associat|\brelated|\battribut|\bdue to", re.I),
    "toxic": re.compile(r"toxic", re.I),
    "after": re.compile(r"\bafter\b|\bfollowing\b|\bduring\b|\bwith(?:in)?\b", re.I),
    "treat": re.compile(r"\btreat|\breceiv|\badminist|\btherapy|\btaking|\bintake|\bdose", re.I),
    "develop": re.compile(r"\bdevelop|\boccur|\bonset|\bexperienc|\bcomplicat|\bside effect|\badverse", re.I),
    "protect": re.compile(r"\bprotect|\bprevent|\battenuat|\bameliorat|\breduc|\bimprov|\breliev|\breverse", re.I),
    "negation": re.compile(r"\bno\b|\bnot\b|\bwithout\b|\bneither\b|\bnor\b|\bfailed to\b|\babsence\b", re.I),
    "case": re.compile(r"\bcase\b|\bpatient|\bman\b|\bwoman\b|\bboy\b|\bgirl\b", re.I),
    "animal": re.compile(r"\brats?\b|\bmice\b|\bmouse\b|\bdogs?\b|\brabbits?\b", re.I),
}
FEATURES: list[str] = [
    "chem_count", "dis_count", "chem_frac", "dis_frac", "chem_rank", "dis_rank", "n_chem", "n_dis",
    "chem_in_title", "dis_in_title", "both_in_title", "shared_sentences", "min_sentence_gap",
    "chem_first", "dis_first", "min_token_gap", "adjacent_induced", "dis_sentences_with_chem",
    "chem_is_top", "dis_is_top", "dis_general", "n_sentences",
    *[f"between_{k}" for k in TRIGGERS], *[f"shared_{k}" for k in TRIGGERS],
    "prior_chem", "prior_dis", "prior_pair", "prior_chem_seen", "prior_dis_seen",
]
_WORD = re.compile(r"\w+")


def concept_ids(mention: Mention) -> list[str]:
    """The concept identifiers of a mention (composite mentions such as ``D014786|D006311`` give both)."""
    if not mention.identifier or mention.identifier in ("-1", "-"):
        return []
    return [i.split(":", 1)[-1] for i in mention.identifier.split("|") if i and i != "-1"]


@dataclass
class Priors:
    """How often each chemical / disease / pair took part in a CID relation in training documents.

    ``chem[c] = (positives, occurrences)``: positive pairs with ``c`` as the chemical and the number of
    documents that mentioned ``c``; likewise for diseases and pairs.
    """

    chem: dict[str, tuple[int, int]]
    dis: dict[str, tuple[int, int]]
    pair: dict[tuple[str, str], tuple[int, int]]

    @classmethod
    def fit(cls, docs: list[Document], gold: dict[str, set[tuple[str, str]]]) -> Priors:
        """Count over ``docs`` with their gold CID pairs (``gold[doc.id]``)."""
        chem: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        dis: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        pair: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for doc in docs:
            chems, diss = _ids_by_type(doc)
            pos = gold.get(doc.id, set())
            for c in chems:
                chem[c][1] += 1
                chem[c][0] += any(p[0] == c for p in pos)
            for d in diss:
                dis[d][1] += 1
                dis[d][0] += any(p[1] == d for p in pos)
            for c in chems:
                for d in diss:
                    pair[(c, d)][1] += 1
                    pair[(c, d)][0] += (c, d) in pos
        return cls({k: (v[0], v[1]) for k, v in chem.items()}, {k: (v[0], v[1]) for k, v in dis.items()},
                   {k: (v[0], v[1]) for k, v in pair.items()})

    def to_json(self) -> dict[str, object]:
        """A JSON-safe form (pairs keyed ``chem|dis``)."""
        return {"chem": self.chem, "dis": self.dis, "pair": {f"{c}|{d}": v for (c, d), v in self.pair.items()}}

    @classmethod
    def from_json(cls, data: dict[str, dict[str, list[int]]]) -> Priors:
        """Inverse of :meth:`to_json`."""
        return cls({k: (v[0], v[1]) for k, v in data["chem"].items()},
                   {k: (v[0], v[1]) for k, v in data["dis"].items()},
                   {tuple(k.split("|", 1)): (v[0], v[1]) for k, v in data["pair"].items()})  # type: ignore[misc]


def _ids_by_type(doc: Document) -> tuple[dict[str, list[Mention]], dict[str, list[Mention]]]:
    chems: dict[str, list[Mention]] = defaultdict(list)
    diss: dict[str, list[Mention]] = defaultdict(list)
    for m in doc.mentions:
        if m.negated:
            continue
        target = chems if m.type == "Chemical" else diss if m.type == "Disease" else None
        if target is None:
            continue
        for cid in concept_ids(m):
            target[cid].append(m)
    return chems, diss


def _rate(value: tuple[int, int] | None) -> float:
    if not value or value[1] == 0:
        return math.nan
    return (value[0] + 0.1) / (value[1] + 1.0)


def _sentence_index(doc: Document) -> list[tuple[int, int]]:
    return doc.sentences or [(0, len(doc.text))]


def _sent_of(spans: list[tuple[int, int]], offset: int) -> int:
    for i, (s, e) in enumerate(spans):
        if s <= offset < e:
            return i
    return len(spans) - 1


Candidate = tuple[str, str, list[float], tuple[int, int] | None]


def candidate_pairs(doc: Document, priors: Priors | None = None) -> list[Candidate]:
    """Every (chemical id, disease id) pair of ``doc`` with its feature vector and evidence sentence.

    The evidence sentence is the shared sentence with the most trigger words, or the sentence of the
    closest pair of mentions when none is shared.
    """
    chems, diss = _ids_by_type(doc)
    if not chems or not diss:
        return []
    spans = _sentence_index(doc)
    text = doc.text
    n_len = max(len(text), 1)
    title_end = next((s.end for s in doc.sections if s.name == "title"), 0)
    chem_counts = Counter({c: len(ms) for c, ms in chems.items()})
    dis_counts = Counter({d: len(ms) for d, ms in diss.items()})
    chem_rank = {c: r for r, (c, _) in enumerate(chem_counts.most_common(), 1)}
    dis_rank = {d: r for r, (d, _) in enumerate(dis_counts.most_common(), 1)}
    tot_c, tot_d = sum(chem_counts.values()), sum(dis_counts.values())
    sent_cache: dict[int, str] = {}
    chem_sents = {c: {_sent_of(spans, m.start) for m in ms} for c, ms in chems.items()}
    dis_sents = {d: {_sent_of(spans, m.start) for m in ms} for d, ms in diss.items()}
    all_chem_sents = set().union(*chem_sents.values())
    dis_texts = {d: {m.text.lower() for m in ms} for d, ms in diss.items()}
    out = []
    for c, cms in chems.items():
        for d, dms in diss.items():
            shared = chem_sents[c] & dis_sents[d]
            gap = min(abs(a - b) for a in chem_sents[c] for b in dis_sents[d])
            between = {k: 0.0 for k in TRIGGERS}
            min_tok, adjacent = 99.0, 0.0
            for cm in cms:
                for dm in dms:
                    if _sent_of(spans, cm.start) != _sent_of(spans, dm.start):
                        continue
                    lo, hi = (cm.end, dm.start) if cm.end <= dm.start else (dm.end, cm.start)
                    seg = text[lo:hi] if lo <= hi else ""
                    min_tok = min(min_tok, len(_WORD.findall(seg)))
                    for k, rx in TRIGGERS.items():
                        if rx.search(seg):
                            between[k] = 1.0
                    after = text[cm.end:cm.end + 12].lower()
                    if after.startswith(("-induced", " induced", "-associated", "-related", " toxicity")) or \
                            "induced" in dm.text.lower():
                        adjacent = 1.0
            shared_trig = {k: 0.0 for k in TRIGGERS}
            best, best_score = None, -1
            for si in shared:
                s = sent_cache.setdefault(si, text[spans[si][0]:spans[si][1]])
                score = 0
                for k, rx in TRIGGERS.items():
                    if rx.search(s):
                        shared_trig[k] += 1.0
                        score += k in ("induc", "cause", "assoc", "toxic", "develop")
                if score > best_score:
                    best, best_score = spans[si], score
            if best is None:  # never in one sentence: the closest chemical and disease sentences, and between
                _gap, a, b = min((abs(a - b), a, b) for a in chem_sents[c] for b in dis_sents[d])
                lo, hi = (a, b) if a <= b else (b, a)
                best = (spans[lo][0], spans[hi][1]) if hi - lo <= 2 else spans[a]
            general = float(any(d2 != d and any(t in t2 and t != t2 for t in dis_texts[d] for t2 in dis_texts[d2])
                                for d2 in diss))
            pc = priors.chem.get(c) if priors else None
            pd = priors.dis.get(d) if priors else None
            pp = priors.pair.get((c, d)) if priors else None
            feats = [
                len(cms), len(dms), len(cms) / tot_c, len(dms) / tot_d, chem_rank[c], dis_rank[d],
                len(chems), len(diss),
                float(any(m.start < title_end for m in cms)), float(any(m.start < title_end for m in dms)),
                float(any(m.start < title_end for m in cms) and any(m.start < title_end for m in dms)),
                len(shared), gap, min(m.start for m in cms) / n_len, min(m.start for m in dms) / n_len,
                min_tok, adjacent, len(dis_sents[d] & all_chem_sents) / max(len(dis_sents[d]), 1),
                float(chem_rank[c] == 1), float(dis_rank[d] == 1), general, len(spans),
                *between.values(), *shared_trig.values(),
                _rate(pc), _rate(pd), _rate(pp), float(pc[1] if pc else 0), float(pd[1] if pd else 0),
            ]
            out.append((c, d, feats, best))
    return out
