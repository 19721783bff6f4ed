"""Split eligibility text into inclusion/exclusion sections and one item per criterion.

Handles the shapes criteria come in: ClinicalTrials.gov's ``Inclusion Criteria:`` / ``Exclusion
Criteria:`` headers with ``-`` bullets (wrapped lines and nested sub-bullets), numbered lists, and
plain one-criterion-per-line text (Chia). Headers are recognised despite typos ("Inclusion
Critera", "Exlusion criteria") by a string-similarity test, because a misspelt header silently
turning exclusions into inclusions is the worst possible parse.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_BULLET = re.compile(r"^(?P<indent>\s*)(?P<bullet>[-*•·‣▪●◦+–]|\(?\d{1,2}[.)]|\(?[a-hj-z][.)]|\(?[ivx]{1,4}[.)])\s+")
_HEADER_WORDS = re.compile(r"[a-z]+")
_KIND_WORDS = {"inclusion": "inclusion", "exclusion": "exclusion", "include": "inclusion", "exclude": "exclusion"}


@dataclass(frozen=True)
class Item:
    """One criterion's text: its kind, [start, end) offsets in the source, nesting level and parent."""

    kind: str
    start: int
    end: int
    text: str
    level: int = 0
    parent: int | None = None  # index of the enclosing item ("any of the following:")


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def header_kind(line: str) -> str | None:
    """``"inclusion"``/``"exclusion"`` when ``line`` is a section header, ``"other"`` for a neutral header.

    A header is short (at most 5 words) and its first one or two words read, allowing typos,
    as inclusion/exclusion (+ criteria); "Eligibility criteria:" and upper-case lines ending in ':'
    ("DISEASE CHARACTERISTICS:") are neutral headers that keep the current section.
    """
    raw = line.strip().strip("-*#:").strip()
    words = _HEADER_WORDS.findall(raw.lower())
    if not words or len(words) > 5:
        return None
    for w in words[:2]:
        for key, kind in _KIND_WORDS.items():
            if _similar(w, key) >= 0.8:
                rest = [x for x in words if x != w]
                if not rest or any(_similar(x, "criteria") >= 0.75 or x in ("criterion", "key", "main")
                                   for x in rest) or line.rstrip().endswith(":"):
                    return kind
    if (any(_similar(w, "eligibility") >= 0.8 for w in words) and any(_similar(w, "criteria") >= 0.75
                                                                        for w in words)):
        return "other"
    if line.strip().endswith(":") and raw.isupper() and len(words) <= 4:
        return "other"
    return None


def split_items(text: str, default_kind: str = "inclusion") -> list[Item]:
    """The criteria items of ``text``, each with its section kind and source offsets.

    Args:
        text: criteria as on ClinicalTrials.gov or one criterion per line.
        default_kind: the kind of items before any header.
    """
    lines = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        lines.append((pos, raw.rstrip("\r\n")))
        pos += len(raw)
    bulleted = any(_BULLET.match(ln) for _, ln in lines if ln.strip())
    kind = default_kind
    items: list[Item] = []
    cur: list[int] | None = None  # [start, end, level]
    cur_kind = kind
    indents: list[int] = []
    prev_blank = True

    def close() -> None:
        nonlocal cur
        if cur:
            seg = text[cur[0]:cur[1]]
            if re.search(r"[A-Za-z]", seg):
                parent = None
                if cur[2] > 0:
                    for k in range(len(items) - 1, -1, -1):
                        if items[k].level < cur[2] and items[k].kind == cur_kind:
                            parent = k
                            break
                items.append(Item(cur_kind, cur[0], cur[1], seg, cur[2], parent))
        cur = None

    for start, line in lines:
        if not line.strip():
            prev_blank = True
            continue
        hk = header_kind(line)
        if hk is not None:
            close()
            if hk != "other":
                kind = hk
            indents = []
            prev_blank = True
            continue
        m = _BULLET.match(line)
        lead = len(line) - len(line.lstrip())
        body_start = start + (m.end() if m else lead)
        end = start + len(line.rstrip())
        if m:
            indent = len(m.group("indent"))
            while indents and indents[-1] > indent:
                indents.pop()
            if not indents or indents[-1] < indent:
                indents.append(indent)
            close()
            cur, cur_kind = [body_start, end, len(indents) - 1], kind
        elif bulleted and cur is not None and not prev_blank:
            cur[1] = end  # a wrapped line continues the open bullet
        elif bulleted and cur is not None and prev_blank and lead > 0 and lead >= (indents[-1] if indents else 0):
            cur[1] = end  # an indented paragraph under a bullet
        else:
            close()
            cur, cur_kind = [body_start, end, 0], kind
            if not bulleted:
                close()
        prev_blank = False
    close()
    return items
