"""Rules that read comparators, values, units, temporal windows, age and sex out of criteria text.

Why rules on top of the NER: the NER finds *where* a value or a time window is ("<1.5 X ULN",
"within 30 days prior to study entry"); turning that span into ``{"comparator": "<", "value": 1.5,
"relative_to": "ULN"}`` or ``{"relation": "within", "days": 30}`` is a closed, regular grammar that
regular expressions read exactly and explainably, and that a user can check at a glance.
"""

from __future__ import annotations

import re
from typing import Any

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20,
                "thirty": 30, "sixty": 60, "ninety": 90, "a": 1, "an": 1, "one hundred": 100}
_NUM = r"(?:\d+(?:[.,]\d+)?|one hundred|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|" \
       r"fifteen|eighteen|twenty|thirty|sixty|ninety)"
_NUMX = _NUM + r"(?:\s*\(\s*\d+(?:\.\d+)?\s*\))?"  # "three (3)"

# (pattern, comparator) tried in order; prefixes before the number.
_PREFIX: list[tuple[str, str]] = [
    (r"≥|>=|=>|greater than or equal to|more than or equal to|equal to or (?:greater|more) than|at least|"
     r"no less than|not less than|not lower than|minimum(?: of)?|a minimum of|over or equal to", ">="),
    (r"≤|<=|=<|less than or equal to|equal to or less than|no more than|not more than|no greater than|"
     r"not greater than|not higher than|at most|up to|maximum(?: of)?|a maximum of|not exceeding|not to exceed|"
     r"does not exceed|within", "<="),
    (r">|greater than|more than|higher than|above|over|exceeding|exceeds|in excess of|older than", ">"),
    (r"<|less than|lower than|below|under|fewer than|younger than|inferior to", "<"),
    (r"=|equal to|equals", "="),
]
_POSTFIX: list[tuple[str, str]] = [
    (r"or (?:more|greater|higher|older|above|over|longer)|and (?:above|over|older)|\+", ">="),
    (r"or (?:less|fewer|lower|younger|below|under)|and (?:below|under|younger)", "<="),
]
_REL = r"(?:\s*(?:x|×|times)\s*(?:the\s+)?(?:institutional\s+|local\s+)?(?P<rel>uln|lln|upper limit of (?:the )?" \
       r"normal(?: range)?|lower limit of (?:the )?normal(?: range)?|normal))"
_UNIT = (r"(?P<unit>%|percent|mg/dl|g/dl|g/l|mg/l|mmol/l|mmol/mol|µmol/l|umol/l|μmol/l|mg/kg|mg/m2|mg/day|mg|"
         r"µg|mcg|ug|g|kg/m2|kg/m²|kg|ml/min(?:/1\.73\s?m2|/1\.73\s?m²)?|ml|l|mmhg|mm hg|bpm|beats per minute|"
         r"cells/mm3|cells/mm³|cells/µl|cells/ul|cells/mcl|/mm3|/µl|/ul|/mcl|x\s?10\^?9/l|x\s?10\^?3/µl|"
         r"x\s?10\^?3/ul|x\s?10e9/l|iu/l|u/l|iu/ml|ng/ml|pg/ml|copies/ml|msec|ms|cm|mm|points?|years?|yrs?|"
         r"months?|weeks?|days?|hours?|seconds?|minutes?|"
         # any other unit written with a slash (gm/day, mEq/L, g/24 h, cells/hpf, mIU/mL) or a common
         # bare one: a value must never lose its unit ("urinary protein > 3.5 gm/day")
         r"[a-zµμ]+(?:/[0-9]*\s?[a-zµμ0-9.²³^]+)+|/hpf|/hpf|meq|mosm|miu|mu|iu|units?|gm|mcg)")


def to_number(token: str) -> float | None:
    """``"1,5"`` / ``"1.5"`` / ``"three (3)"`` / ``"10,000"`` -> float; None when not a number."""
    t = token.strip().lower()
    m = re.search(r"\(\s*(\d+(?:\.\d+)?)\s*\)", t)
    if m:
        return float(m.group(1))
    if t in NUMBER_WORDS:
        return float(NUMBER_WORDS[t])
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", t):
        return float(t.replace(",", ""))
    try:
        return float(t.replace(",", "."))
    except ValueError:
        return None


_CMP_RE = "|".join(f"(?:{p})" for p, _ in _PREFIX)
_UNIT_NC = _UNIT.replace("?P<unit>", "")
_CONSTRAINT_RE = re.compile(
    rf"(?:(?<![\w.,])(?P<between>between|from)\s+(?:and including\s+|inclusive\s+)?"
    rf"(?P<lo>{_NUMX})\s*(?:{_UNIT_NC})?\s*(?:and|to|-|–)\s*"
    rf"(?P<hi>{_NUMX})"
    rf"|(?<![\w.,])(?P<lo2>{_NUM})\s*(?:{_UNIT_NC})?\s*(?:-|–|to)\s*(?P<hi2>{_NUM})(?![\d.])"
    rf"|(?:(?P<cmp>{_CMP_RE})\s*)?(?<![\w.,])(?P<val>{_NUMX}))"
    rf"(?:{_REL}|\s*{_UNIT}(?![a-z/]))?(?:\s+(?:of age|old))?"
    rf"(?:\s*(?P<post>{'|'.join(p for p, _ in _POSTFIX)}))?",
    re.IGNORECASE,
)


def _cmp_of(words: str) -> str:
    for pattern, op in _PREFIX:
        if re.fullmatch(pattern, words.strip(), re.IGNORECASE):
            return op
    return "="


def parse_constraints(text: str) -> list[dict[str, Any]]:
    """Every numeric constraint in ``text``, in order.

    Returns:
        dicts with ``comparator`` (``<``, ``<=``, ``>``, ``>=``, ``=``, ``between``), ``value``,
        ``value_high`` (ranges), ``unit`` (lower-case, or None), ``relative_to`` (``ULN``/``LLN``
        for "2.5 x ULN"), ``text`` and character ``start``/``end`` within ``text``.
    """
    out = []
    for m in _CONSTRAINT_RE.finditer(text):
        g = m.groupdict()
        unit = (g.get("unit") or "").lower() or None
        rel = g.get("rel")
        relative = None
        if rel:
            relative = "LLN" if rel.lower().startswith(("lln", "lower")) else "ULN"
        if g.get("lo") or g.get("lo2"):
            lo, hi = to_number(g.get("lo") or g["lo2"]), to_number(g.get("hi") or g["hi2"])
            if lo is None or hi is None:
                continue
            item = {"comparator": "between", "value": lo, "value_high": hi}
        else:
            val = to_number(g["val"]) if g.get("val") else None
            if val is None:
                continue
            cmp = _cmp_of(g["cmp"]) if g.get("cmp") else "="
            if g.get("post"):
                cmp = next(op for p, op in _POSTFIX if re.fullmatch(p, g["post"], re.IGNORECASE))
            if cmp == "=" and not (unit or relative) and g["val"].lower() in NUMBER_WORDS:
                continue  # "one of the following" is not a value
            item = {"comparator": cmp, "value": val, "value_high": None}
        item.update(unit=unit, relative_to=relative, text=m.group().strip(), start=m.start(), end=m.end())
        out.append(item)
    return out


_DAYS = {"hour": 1 / 24, "hr": 1 / 24, "day": 1.0, "week": 7.0, "wk": 7.0, "month": 30.4375, "mo": 30.4375,
         "year": 365.25, "yr": 365.25}
_TIME_UNIT = r"(?P<unit>hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?)"


def parse_temporal(text: str) -> dict[str, Any] | None:
    """A temporal window from a phrase such as "within 30 days prior to study entry".

    Returns:
        ``{"relation", "amount", "unit", "days", "anchor", "text"}`` where relation is ``within``
        (the event happened in the last N units), ``at_least`` (at least N units ago), ``duration``
        (lasting N units), ``during``, ``current`` or ``since``; None when nothing temporal is found.
    """
    low = text.lower()
    m = re.search(rf"(?P<pre>within|in|during|for|over|at least|more than|less than|greater than|longer than|"
                  rf"minimum of|a minimum of|no less than|up to|last|past|previous)?\s*(?:the\s+)?"
                  rf"(?:last|past|previous|preceding|prior)?\s*(?P<num>{_NUMX})?\s*{_TIME_UNIT}\b", low)
    anchor = None
    am = re.search(r"(?:prior to|before|of|after|following|from|since)\s+(?P<anchor>[a-z][\w\s/-]{2,60})$", low)
    if am:
        anchor = am.group("anchor").strip()
    if m:
        num = m.group("num")
        amount = to_number(num) if num else 1.0
        unit = m.group("unit").rstrip("s")
        unit = {"hr": "hour", "wk": "week", "mo": "month", "yr": "year"}.get(unit, unit)
        pre = (m.group("pre") or "").strip()
        after_kw = low[m.end():]
        if pre == "for" or re.search(r"\bfor\s*$", low[: m.start("pre")] if m.group("pre") else ""):
            relation = "duration"
        elif pre in ("at least", "more than", "greater than", "longer than", "minimum of", "a minimum of",
                   "no less than"):
            relation = "duration" if re.search(r"^\s*(?:duration|history|of\b)", after_kw) else "at_least"
            if re.match(r"^\s*(?:prior|before|ago|since)", after_kw):
                relation = "at_least"
        elif re.match(r"^\s*ago", after_kw) and not pre:
            relation = "at_least"
        else:
            relation = "within"
        days = round(amount * _DAYS[unit], 4) if amount is not None else None
        return {"relation": relation, "amount": amount, "unit": unit, "days": days, "anchor": anchor,
                "text": text.strip()}
    for word, relation in (("during", "during"), ("current", "current"), ("currently", "current"),
                           ("ongoing", "current"), ("active", "current"), ("since", "since"), ("recent", "within")):
        if re.search(rf"\b{word}\b", low):
            return {"relation": relation, "amount": None, "unit": None, "days": None, "anchor": anchor,
                    "text": text.strip()}
    return None


_AGE_CONTEXT = re.compile(r"\bage[sd]?\b|\byears? old\b|\byears? of age\b|\byrs? old\b|\by/?o\b|\badults?\b", re.I)


def parse_age(text: str) -> dict[str, Any] | None:
    """Age bounds in years stated in a criterion ("aged 18-65 years", "≥ 18 years of age")."""
    if not _AGE_CONTEXT.search(text):
        return None
    lo = hi = None
    lo_inc = hi_inc = True
    for c in parse_constraints(text):
        if c["unit"] not in (None, "year", "years", "yr", "yrs") or c["relative_to"]:
            continue
        if not 0 < c["value"] <= 120:
            continue
        op = c["comparator"]
        if op == "between" and c["value_high"] and c["value_high"] <= 120:
            lo, hi = c["value"], c["value_high"]
        elif op in (">=", ">"):
            lo, lo_inc = c["value"], op == ">="
        elif op in ("<=", "<"):
            hi, hi_inc = c["value"], op == "<="
        elif op == "=" and c["unit"]:
            continue
    if lo is None and hi is None:
        if re.search(r"\badults?\b", text, re.I):
            return {"min_years": 18.0, "max_years": None, "min_inclusive": True, "max_inclusive": True,
                    "text": text.strip()}
        return None
    return {"min_years": lo, "max_years": hi, "min_inclusive": lo_inc, "max_inclusive": hi_inc, "text": text.strip()}


_MALE = re.compile(r"\b(?:males?|men|man|boys?)\b", re.I)
_FEMALE = re.compile(r"\b(?:females?|women|woman|girls?)\b", re.I)
_SEX_ONLY = re.compile(
    r"^\W*(?:(?:patients?|subjects?|participants?|volunteers?)\s+(?:must be|are|who are)\s+)?"
    r"(?:healthy\s+|adult\s+|ambulatory\s+|postmenopausal\s+|premenopausal\s+)*"
    r"(?:males?|men|females?|women|boys|girls)(?:\s+(?:only|patients?|subjects?|participants?|volunteers?))*\W*$",
    re.I,
)


def parse_sex(text: str) -> str | None:
    """``"female"``, ``"male"`` or ``"all"`` when a criterion restricts sex; None otherwise.

    Only explicit statements count ("Male or female", "Women only", "Postmenopausal women"); a
    conditional clause ("Female patients must have a negative pregnancy test") is not a restriction.
    """
    male, female = bool(_MALE.search(text)), bool(_FEMALE.search(text))
    if male and female and re.search(r"\b(?:males?|men)\s+(?:and|or|&|and/or)\s+(?:females?|women)\b|"
                                     r"\b(?:females?|women)\s+(?:and|or|&|and/or)\s+(?:males?|men)\b|both sexes|"
                                     r"either sex|either gender|both genders", text, re.I):
        return "all"
    if re.search(r"\b(?:both sexes|either sex|either gender|both genders|all genders)\b", text, re.I):
        return "all"
    if _SEX_ONLY.match(text.strip()) or re.search(r"\b(?:females?|women|males?|men)\s+only\b", text, re.I):
        if female and not male:
            return "female"
        if male and not female:
            return "male"
    return None
