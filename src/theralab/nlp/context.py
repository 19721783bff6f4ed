"""Negation and context detection in the manner of NegEx / ConText (Chapman et al. 2001; Harkema et al. 2009).

Why ConText rather than a learned classifier: the four questions matching must answer about a
mention (is it denied? in the past? about a relative? only a possibility?) are carried by a small,
closed set of trigger phrases whose scope runs to the end of the clause. A rule set is transparent
(every flag names its trigger, shown to the user as evidence), needs no training data the corpus
does not have, and transfers to notes and abstracts unchanged.

Algorithm, per line: find trigger phrases (longest first; pseudo-triggers such as "no increase"
or "gram negative" block the triggers they contain), then give each trigger a scope: forward
triggers cover up to :data:`FORWARD_WINDOW` tokens after them, backward triggers up to
:data:`BACKWARD_WINDOW` tokens before them, both cut at a terminator ("but", "except", ";", ".")
or at a trigger of another category. An entity inside a scope (and not overlapping the trigger)
gets the flag. The trigger lists below were written for this project from the categories and
examples of the NegEx/ConText papers and the wording of ClinicalTrials.gov criteria.
"""

from __future__ import annotations

from dataclasses import dataclass

from theralab.nlp.entities import Entity
from theralab.nlp.tokens import Token, split_lines, tokenize

FORWARD_WINDOW = 12
BACKWARD_WINDOW = 4
CATEGORIES = ("negated", "historical", "family", "hypothetical")

#: category -> direction -> phrases. ``forward``: the trigger precedes what it modifies.
TRIGGERS: dict[str, dict[str, tuple[str, ...]]] = {
    "negated": {
        "forward": ("no", "not", "without", "denies", "denied", "deny", "absence of", "absent", "negative for",
                    "free of", "rule out", "ruled out for", "never", "neither", "nor", "no evidence of",
                    "no sign of", "no signs of", "no history of", "lack of", "lacking", "none of",
                    "must not have", "does not have", "did not have", "cannot have", "excluding", "no known",
                    "no current", "no prior", "no active", "no clinical", "free from", "refrain from"),
        "backward": ("negative", "is negative", "was negative", "are negative", "were negative", "is ruled out",
                     "was ruled out", "ruled out", "excluded", "free", "absent", "not present", "unlikely",
                     "not seen", "not detected", "undetectable"),
    },
    "historical": {
        "forward": ("history of", "h / o", "hx of", "previous", "previously", "prior", "past", "former",
                    "formerly", "status post", "s / p", "had", "has had", "have had", "remote", "resolved",
                    "recovered from", "ex", "pre - existing", "preexisting", "past medical history of",
                    "treated for", "survivor of"),
        "backward": ("in the past", "ago", "previously", "in remission", "resolved"),
    },
    "family": {
        "forward": ("family history of", "family history", "mother", "father", "sister", "brother", "sibling",
                    "siblings", "parent", "parents", "first - degree relative", "first degree relative",
                    "first - degree relatives", "relatives", "relative", "grandmother", "grandfather",
                    "maternal", "paternal", "familial history of"),
        "backward": ("in a first - degree relative", "in first - degree relatives", "in a family member",
                     "in family members", "in the family", "in a relative", "in relatives", "in a sibling",
                     "in a parent"),
    },
    "hypothetical": {
        "forward": ("if", "in case of", "in the event of", "planned", "planning", "plan to", "plans to",
                    "scheduled for", "scheduled", "expected to",
                    "anticipated", "anticipate", "intend to", "intends to", "risk of", "at risk for",
                    "at risk of", "likely to", "potential", "willing to", "candidate for", "suspected",
                    "possible", "unless", "considering", "wish to", "future"),
        "backward": ("is planned", "are planned", "is anticipated", "is expected", "is suspected", "is possible"),
    },
}

#: Negation triggers that also say "in the past": "no history of MI" means never had one.
ALSO_HISTORICAL: frozenset[str] = frozenset({"no history of", "no prior", "never"})

#: Phrases containing a trigger word that are not triggers.
PSEUDO_TRIGGERS: tuple[str, ...] = (
    "no increase", "no change", "not only", "not necessarily", "no further", "not certain if", "gram negative",
    "without difficulty", "not excluded", "not ruled out", "not been ruled out", "not rule out", "prior to",
    "previous to", "history and physical", "history taking", "not limited to", "may include", "as possible",
    "if applicable", "if any", "if present", "if required", "if needed", "whether or not", "if known",
    "no more than", "not more than", "no less than", "not less than", "not exceed", "not exceeding",
    "with or without", "no contraindication", "no contraindications", "no contra - indication",
    "no contra - indications", "not contraindicated",
    "not to exceed", "if necessary", "negative pregnancy", "parenteral", "relative risk", "possible",
)
# "possible" as a pseudo-trigger only blocks it as forward trigger in "as possible"; keep it a trigger:
PSEUDO_TRIGGERS = tuple(p for p in PSEUDO_TRIGGERS if p != "possible")

TERMINATORS: tuple[str, ...] = (
    "but", "however", "although", "though", "except", "aside from", "apart from", "other than", "which", "who",
    "yet", "still", ";", ".", "secondary to", "due to", "because", "whereas", "while", "unless", "current",
    "currently", "now", "presenting",
)


@dataclass(frozen=True)
class Trigger:
    """A matched trigger: category, direction, phrase and token index range [i, j) in its line."""

    category: str
    direction: str
    phrase: str
    i: int
    j: int


def _phrase_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(t.text.lower() for t in tokenize(phrase))


_LEXICON: list[tuple[tuple[str, ...], str, str, str]] = sorted(
    [(_phrase_tokens(p), cat, d, p) for cat, dirs in TRIGGERS.items() for d, ps in dirs.items() for p in ps],
    key=lambda x: -len(x[0]),
)
_PSEUDO = sorted((_phrase_tokens(p) for p in PSEUDO_TRIGGERS), key=len, reverse=True)
_TERMS = [_phrase_tokens(p) for p in TERMINATORS]


def _match_at(words: list[str], i: int, phrase: tuple[str, ...]) -> bool:
    return tuple(words[i:i + len(phrase)]) == phrase


def find_triggers(tokens: list[Token], extra_negations: list[tuple[int, int]] | None = None) -> list[Trigger]:
    """Trigger matches in one line of tokens, longest first, pseudo-triggers masked out.

    Args:
        tokens: the tokens of one line.
        extra_negations: additional forward negation triggers as token ranges (the NER's own
            ``Negation`` entities, which catch phrasings the list misses).
    """
    words = [t.text.lower() for t in tokens]
    taken = [False] * len(words)
    for i in range(len(words)):
        for ph in _PSEUDO:
            if _match_at(words, i, ph):
                for k in range(i, i + len(ph)):
                    taken[k] = True
    found: list[Trigger] = []
    for i in range(len(words)):
        for ph, cat, direction, text in _LEXICON:
            j = i + len(ph)
            if _match_at(words, i, ph) and not any(taken[i:j]):
                found.append(Trigger(cat, direction, text, i, j))
                if text in ALSO_HISTORICAL:
                    found.append(Trigger("historical", direction, text, i, j))
                for k in range(i, j):
                    taken[k] = True
                break
    for i, j in extra_negations or []:
        if not any(taken[i:j]):
            found.append(Trigger("negated", "forward", " ".join(words[i:j]), i, j))
    return sorted(found, key=lambda t: t.i)


def _is_terminator(words: list[str], i: int) -> bool:
    return any(_match_at(words, i, ph) for ph in _TERMS)


def trigger_scope(tokens: list[Token], triggers: list[Trigger], trig: Trigger) -> tuple[int, int]:
    """Token range [a, b) that ``trig`` governs."""
    words = [t.text.lower() for t in tokens]
    others = {k for t in triggers if t.category != trig.category and (t.i, t.j) != (trig.i, trig.j)
              for k in range(t.i, t.j)}
    if trig.direction == "forward":
        a = b = trig.j
        while b < len(words) and b - trig.j < FORWARD_WINDOW and not _is_terminator(words, b) and b not in others:
            b += 1
        return a, b
    a = b = trig.i
    while a > 0 and trig.i - a < BACKWARD_WINDOW and not _is_terminator(words, a - 1) and (a - 1) not in others:
        a -= 1
    return a, b


def apply_context(text: str, entities: list[Entity], *, use_negation_entities: bool = True) -> list[Entity]:
    """Set the ConText flags of ``entities`` (in place; also returned) from the triggers in ``text``.

    Args:
        text: the source text the entities' offsets refer to.
        entities: entities to flag; ``Negation`` entities themselves are never flagged.
        use_negation_entities: treat the NER's ``Negation`` entities as extra forward triggers.
    """
    for offset, line in split_lines(text):
        tokens = tokenize(line, offset)
        if not tokens:
            continue
        lo, hi = tokens[0].start, tokens[-1].end
        inline = [e for e in entities if lo <= e.start < hi + 1]
        extra = []
        if use_negation_entities:
            for e in inline:
                if e.type == "Negation":
                    idx = [k for k, t in enumerate(tokens) if t.start < e.end and t.end > e.start]
                    if idx:
                        extra.append((idx[0], idx[-1] + 1))
        triggers = find_triggers(tokens, extra)
        for trig in triggers:
            a, b = trigger_scope(tokens, triggers, trig)
            if a >= b:
                continue
            s_char, e_char = tokens[a].start, tokens[b - 1].end
            t_char = (tokens[trig.i].start, tokens[trig.j - 1].end)
            for ent in inline:
                if ent.type == "Negation" or (ent.start < t_char[1] and t_char[0] < ent.end):
                    continue
                if s_char <= ent.start < e_char:
                    setattr(ent, trig.category, True)
                    label = f"{trig.category}:{trig.phrase}"
                    if label not in ent.triggers:
                        ent.triggers.append(label)
    return entities
