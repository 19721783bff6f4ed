"""Token features for the CRF tagger.

Why hand-made features: a linear-chain CRF over orthographic, affix and window features is the
classic strong baseline on clinical NER (it is what Chia's authors and Criteria2Query build on),
trains in minutes on two CPU cores, and ships as a few-MB model file with no deep-learning runtime.
The small lexicons below are cues, not rules: the CRF learns how much to trust each.
"""

from __future__ import annotations

import re

from theralab.nlp.tokens import Token

_UNITS = {
    "mg",
    "g",
    "kg",
    "ml",
    "l",
    "dl",
    "mmol",
    "umol",
    "µmol",
    "mcg",
    "µg",
    "ug",
    "iu",
    "u",
    "mm",
    "cm",
    "m",
    "mmhg",
    "bpm",
    "%",
    "uln",
    "lln",
    "x",
    "meq",
    "ng",
    "pg",
    "cells",
    "copies",
    "µl",
    "ul",
    "mm3",
    "m2",
    "units",
    "sec",
    "ms",
    "msec",
    "ng/ml",
    "gy",
    "cgy",
}
_TIME = {
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "hour",
    "hours",
    "hrs",
    "yr",
    "yrs",
    "wk",
    "wks",
    "minutes",
    "min",
    "mo",
    "mos",
    "daily",
    "prior",
    "within",
    "since",
    "before",
    "after",
    "during",
    "previous",
    "previously",
    "past",
    "last",
    "current",
    "currently",
    "recent",
    "recently",
    "ago",
}
_COMPARATORS = {
    "<",
    ">",
    "=",
    "≤",
    "≥",
    "less",
    "greater",
    "more",
    "least",
    "than",
    "above",
    "below",
    "exceed",
    "exceeding",
    "between",
    "minimum",
    "maximum",
    "max",
    "min",
    "up",
    "over",
    "under",
    "equal",
}
_NEGATIONS = {"no", "not", "without", "non", "never", "absence", "negative", "free", "nor", "none", "lack"}
_PERSON = {
    "age",
    "aged",
    "old",
    "male",
    "female",
    "males",
    "females",
    "men",
    "women",
    "man",
    "woman",
    "years",
    "child",
    "children",
    "adult",
    "adults",
    "pediatric",
    "gender",
    "sex",
    "boys",
    "girls",
}
_MOOD = {
    "suspected",
    "possible",
    "likely",
    "planned",
    "scheduled",
    "expected",
    "anticipated",
    "intend",
    "plan",
    "candidate",
    "eligible",
    "willing",
    "able",
    "unable",
    "risk",
}
_NUM_WORDS = {
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "twelve",
    "first",
    "second",
    "third",
    "single",
    "twice",
    "once",
    "half",
}
_SUFFIX_HINTS = (
    "itis",
    "oma",
    "emia",
    "osis",
    "pathy",
    "mab",
    "nib",
    "tide",
    "pril",
    "sartan",
    "olol",
    "statin",
    "azole",
    "mycin",
    "cillin",
    "ectomy",
    "otomy",
    "plasty",
    "scopy",
    "graphy",
    "therapy",
)


def shape(word: str) -> str:
    """Collapsed word shape: ``HbA1c`` -> ``XxXdx``, ``1.5`` -> ``d.d``."""
    s = re.sub(r"[A-Z]", "X", word)
    s = re.sub(r"[a-z]", "x", s)
    s = re.sub(r"\d", "d", s)
    return re.sub(r"(.)\1+", r"\1", s)


def _word_feats(tok: str, prefix: str) -> dict[str, str | float]:
    low = tok.lower()
    return {f"{prefix}w": low, f"{prefix}sh": shape(tok)}


def token_features(tokens: list[Token], i: int, dict_tags: list[str] | None = None,
                   clusters: dict[str, list[int]] | None = None) -> dict[str, str | float]:
    """Features of token ``i`` in its line: itself, affixes, lexicon cues, dictionary tags, a ±2 window."""
    tok = tokens[i].text
    low = tok.lower()
    f: dict[str, str | float] = {
        "bias": 1.0,
        "w": low,
        "sh": shape(tok),
        "p2": low[:2],
        "p3": low[:3],
        "p4": low[:4],
        "s2": low[-2:],
        "s3": low[-3:],
        "s4": low[-4:],
        "len": str(min(len(tok), 8)),
        "stem": low[:-1] if low.endswith("s") and len(low) > 3 else low,
    }
    if tok.isupper() and len(tok) > 1:
        f["upper"] = 1.0
    if tok[:1].isupper():
        f["title"] = 1.0
    if any(c.isdigit() for c in tok):
        f["digit"] = 1.0
    for name, lex in (
        ("unit", _UNITS),
        ("time", _TIME),
        ("cmp", _COMPARATORS),
        ("neg", _NEGATIONS),
        ("person", _PERSON),
        ("mood", _MOOD),
        ("num", _NUM_WORDS),
    ):
        if low in lex:
            f["lex"] = name
    for suf in _SUFFIX_HINTS:
        if low.endswith(suf) and len(low) > len(suf) + 1:
            f["hint"] = suf
    if clusters is not None:
        for d in (-1, 0, 1):
            j = i + d
            if 0 <= j < len(tokens):
                ids = clusters.get(tokens[j].text.lower())
                if ids:
                    for k, c in enumerate(ids):
                        f[f"{d:+d}:c{k}"] = str(c)
    if dict_tags is not None:
        f["dict"] = dict_tags[i]
        if i > 0:
            f["-1:dict"] = dict_tags[i - 1]
        if i + 1 < len(tokens):
            f["+1:dict"] = dict_tags[i + 1]
    if i == 0:
        f["BOS"] = 1.0
    if i == len(tokens) - 1:
        f["EOS"] = 1.0
    for d in (-2, -1, 1, 2):
        j = i + d
        if 0 <= j < len(tokens):
            f.update(_word_feats(tokens[j].text, f"{d:+d}:"))
            if tokens[j].text.lower() in _NEGATIONS:
                f[f"{d:+d}:neg"] = 1.0
    if i > 0:
        f["bi-"] = f"{tokens[i - 1].text.lower()}|{low}"
        f["gap-"] = "1" if tokens[i - 1].end < tokens[i].start else "0"
    if i + 1 < len(tokens):
        f["bi+"] = f"{low}|{tokens[i + 1].text.lower()}"
        f["gap+"] = "1" if tokens[i].end < tokens[i + 1].start else "0"
    return f


def sequence_features(tokens: list[Token], dict_tags: list[str] | None = None,
                      clusters: dict[str, list[int]] | None = None) -> list[dict[str, str | float]]:
    """Features of every token in a line (``dict_tags``: the gazetteer's BIO tags, if the model uses one)."""
    return [token_features(tokens, i, dict_tags, clusters) for i in range(len(tokens))]
