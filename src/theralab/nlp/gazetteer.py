"""A dictionary of entity strings seen in training, used as a CRF feature (not as a rule).

Why: a linear CRF with local features forgets that "Zollinger-Ellison syndrome" was a Condition
three hundred documents ago; a longest-match lookup of known entity strings hands it that memory
as one feature per token ("dict=B-Condition"), and the CRF learns how far to trust it. To keep
the CRF from learning to trust it blindly, training features come from a jackknifed dictionary
(each fold tagged with the entries of the other folds), so the dictionary is as incomplete on
training text as it will be on new text.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from theralab.nlp.tokens import Token, tokenize

MAX_LEN = 8


class Gazetteer:
    """Token-tuple -> entity type, with longest-match BIO tagging of a token sequence."""

    def __init__(self, entries: dict[tuple[str, ...], str] | None = None) -> None:
        self.entries: dict[tuple[str, ...], str] = dict(entries or {})

    @classmethod
    def from_spans(cls, spans: list[tuple[str, str]], min_count: int = 1) -> Gazetteer:
        """Build from (text, type) pairs: each string keeps its most frequent type."""
        votes: dict[tuple[str, ...], Counter] = {}
        for text, etype in spans:
            key = tuple(t.text.lower() for t in tokenize(text))
            if not key or len(key) > MAX_LEN or (len(key) == 1 and len(key[0]) < 3):
                continue
            votes.setdefault(key, Counter())[etype] += 1
        return cls({k: c.most_common(1)[0][0] for k, c in votes.items() if sum(c.values()) >= min_count})

    def tag(self, tokens: list[Token]) -> list[str]:
        """Longest-match BIO tags (``B-Condition``, ``I-Condition``, ``O``) for ``tokens``."""
        words = [t.text.lower() for t in tokens]
        tags = ["O"] * len(words)
        i = 0
        while i < len(words):
            for n in range(min(MAX_LEN, len(words) - i), 0, -1):
                etype = self.entries.get(tuple(words[i:i + n]))
                if etype:
                    tags[i] = f"B-{etype}"
                    for k in range(i + 1, i + n):
                        tags[k] = f"I-{etype}"
                    i += n
                    break
            else:
                i += 1
        return tags

    def save(self, path: Path) -> None:
        """JSON: a list of [tokens joined by a space, type], sorted for reproducible checksums."""
        rows = sorted([" ".join(k), v] for k, v in self.entries.items())
        Path(path).write_text(json.dumps(rows, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        """Read :meth:`save`'s JSON."""
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls({tuple(k.split(" ")): v for k, v in rows})

    def __len__(self) -> int:
        return len(self.entries)
