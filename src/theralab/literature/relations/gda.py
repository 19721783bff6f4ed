"""Gene-disease associations and untyped chemical-gene pairs: sentence co-occurrence with a trigger score.

Why not a trained model: no gene-disease corpus is here to train one (BC5CDR has no genes, the
ChemProt copy no negative pairs). A gene and a disease named in one sentence are linked with a
confidence from the words of that sentence: association verbs ("associated with", "mutations in",
"overexpressed in", "risk") raise it, negation lowers it. This is co-occurrence with a trigger
score, and the figures and the user guide say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from theralab.literature.documents import Document, Mention

GDA_TRIGGERS = re.compile(
    r"associat|mutat|variant|polymorphism|express|overexpress|amplif|deleti|loss of|risk|suscept|"
    r"caus|role|involv|implicat|contribut|driv|biomarker|target|pathogen|link|correlat|regulat", re.I)
CHEM_GENE_TRIGGERS = re.compile(
    r"inhibit|activat|agonist|antagonist|block|bind|substrate|metaboli|induc|suppress|reduc|increas|"
    r"decreas|upregulat|downregulat|stimulat|phosphorylat|target|modulat|antibod", re.I)
NEGATION = re.compile(r"\bno\b|\bnot\b|\bwithout\b|\bneither\b|\bnor\b|\bfailed to\b|\bunrelated\b", re.I)


def trigger_score(sentence: str, triggers: re.Pattern[str]) -> float:
    """Confidence in [0, 1] that a sentence naming both entities relates them: 0.3 + 0.2 per trigger, minus negation."""
    hits = len(triggers.findall(sentence))
    score = 0.3 + 0.2 * min(hits, 3)
    if NEGATION.search(sentence):
        score -= 0.25
    return max(0.05, min(score, 0.95))


def sentence_pairs(doc: Document, first: str, second: str) -> Iterator[tuple[Mention, Mention, tuple[int, int]]]:
    """Every (mention of type ``first``, mention of type ``second``, sentence) sharing a sentence."""
    spans = doc.sentences or [(0, len(doc.text))]
    for s, e in spans:
        inside = [m for m in doc.mentions if s <= m.start < e and m.identifier and not m.negated]
        for a in inside:
            if a.type != first:
                continue
            for b in inside:
                if b.type == second:
                    yield a, b, (s, e)
