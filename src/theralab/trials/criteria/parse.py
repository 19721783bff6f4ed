"""Parse free-text eligibility criteria into structured, coded, editable :class:`Criteria`.

Pipeline: split the text into inclusion/exclusion items (:mod:`criteria_text`); recognise
entities with the shipped clinical NER and flag negation/history/family/hypothesis with ConText
(:mod:`theralab.nlp`); read comparators, values, units, temporal windows, age and sex with rules
(:mod:`criteria_rules`); attach values to measurements and time windows to events; build the
AND/OR logic between a criterion's core entities; map codes (:mod:`criteria_codes`), flagging the
unmapped. The result round-trips as JSON, and :func:`.schemas.apply_correction` records a user's edits.

Example::

    crit = parse_criteria("Inclusion Criteria:\\n- HbA1c between 7% and 10%\\nExclusion Criteria:\\n- Pregnancy")
    crit.criteria[0].entities[0].constraint  # comparator='between', value=7.0, value_high=10.0, unit='%'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from theralab.errors import InputError, NotFoundError
from theralab.nlp.entities import Entity
from theralab.trials.criteria.codes import lookup
from theralab.trials.criteria.rules import parse_age, parse_constraints, parse_sex, parse_temporal
from theralab.trials.criteria.schemas import (
    CORE_TYPES,
    AgeRule,
    Code,
    Criteria,
    Criterion,
    CriterionEntity,
    Logic,
    NumericConstraint,
    TemporalWindow,
)
from theralab.trials.criteria.text import Item, split_items

__all__ = ["chia_trial_text", "parse_criteria", "summary"]

MAX_CHARS = 200_000
_VALUE_HOSTS = ("measurement", "person", "observation", "condition", "drug", "procedure")


def parse_criteria(text: str, *, trial_id: str | None = None, default_kind: str = "inclusion",
                   model: str | None = None) -> Criteria:
    """Parse eligibility criteria text.

    Args:
        text: as on ClinicalTrials.gov ("Inclusion Criteria:" / "Exclusion Criteria:" with bullets) or
            one criterion per line.
        trial_id: stored on the result (e.g. an NCT id).
        default_kind: kind of the criteria before any header ("inclusion" or "exclusion").
        model: NER model name or directory (the shipped ``chia-bilstm`` by default).

    Raises:
        InputError: empty or over-long text, an unknown ``default_kind``, or text with no criteria.
    """
    from theralab.nlp.context import apply_context
    from theralab.nlp.ner import DEFAULT_MODEL, load_ner

    if not isinstance(text, str) or not text.strip():
        raise InputError("criteria text is empty", where="text",
                         hint="paste the eligibility section, e.g. 'Inclusion Criteria:\\n- Age >= 18 years'")
    if len(text) > MAX_CHARS:
        raise InputError(f"criteria text has {len(text):,} characters (at most {MAX_CHARS:,})", where="text")
    if default_kind not in ("inclusion", "exclusion"):
        raise InputError(f"default_kind must be 'inclusion' or 'exclusion', not {default_kind!r}",
                         where="default_kind")
    items = split_items(text, default_kind)
    if not items:
        raise InputError("no criteria found in the text", where="text",
                         hint="criteria are lines or bullets with words, under 'Inclusion Criteria:' or "
                              "'Exclusion Criteria:' headers")
    ner = load_ner(model or DEFAULT_MODEL)
    counters: dict[str, int] = {}
    crits: list[Criterion] = []
    ids: list[str] = []
    warnings: list[str] = []
    for item in items:
        prefix = "inc" if item.kind == "inclusion" else "exc"
        counters[prefix] = counters.get(prefix, 0) + 1
        cid = f"{prefix}-{counters[prefix]}"
        ids.append(cid)
        crit = _criterion(cid, item, _item_entities(item, ner, apply_context))
        crit.parent = ids[item.parent] if item.parent is not None else None
        if not crit.entities:
            warnings.append(f"{cid}: no entities recognised; check or annotate it by hand")
        crits.append(crit)
    result = Criteria(trial_id=trial_id, source_text=text, criteria=crits,
                      parser={"ner": ner.card.name, "ner_version": ner.card.version,
                              "codes": "theralab.ehr.terminology + trials/data/criteria_codes.csv"})
    result.age = _overall_age(crits)
    result.sex = _overall_sex(crits)
    n_unmapped = len(result.unmapped())
    if n_unmapped:
        warnings.append(f"{n_unmapped} entities have no code (see Criteria.unmapped())")
    result.warnings = warnings
    return result


def _item_entities(item: Item, ner: Any, apply_context: Any) -> list[Entity]:
    """NER + ConText on one criterion, as the model was trained: one criterion per sequence.

    The bullet is already outside ``item.text``; wrapped lines are joined by turning each line
    break and its indentation into as many spaces, so offsets stay those of the source.
    """
    flat = re.sub(r"[ \t]*\r?\n[ \t]*", lambda m: " " * len(m.group()), item.text)
    found = apply_context(flat, ner.predict(flat))
    for e in found:
        e.start += item.start
        e.end += item.start
        e.text = item.text[e.start - item.start:e.end - item.start]
    return found


def _criterion(cid: str, item: Item, found: list[Entity]) -> Criterion:
    ents: list[CriterionEntity] = []
    for k, e in enumerate(found, 1):
        ents.append(CriterionEntity(
            id=f"{cid}-e{k}", type=e.type.lower(), text=e.text, start=e.start - item.start, end=e.end - item.start,
            normalized=e.normalized, negated=e.negated, historical=e.historical, family=e.family,
            hypothetical=e.hypothetical, score=e.score))
    _attach_values(item.text, ents)
    _attach_temporal(ents)
    _attach_qualifiers(ents)
    for e in ents:
        if e.type in CORE_TYPES:
            e.codes = [Code(**c) for c in lookup(e.text, e.type)[0]]
    crit = Criterion(id=cid, kind=item.kind, text=item.text, start=item.start, end=item.end, level=item.level,
                     entities=ents, logic=_logic(item.text, ents, item.kind))
    age = parse_age(item.text)
    if age and (any(e.type == "person" for e in ents) or re.search(r"\bage", item.text, re.I)):
        crit.age = AgeRule(**age)
    crit.sex = parse_sex(item.text)
    return crit


def _nearest(ents: list[CriterionEntity], target: CriterionEntity, types: tuple[str, ...]) -> CriterionEntity | None:
    before = [e for e in ents if e.type in types and e.end <= target.start]
    after = [e for e in ents if e.type in types and e.start >= target.end]
    if before:
        return before[-1]
    return after[0] if after else None


def _constraint(text: str, fallback_text: str = "") -> NumericConstraint | None:
    found = parse_constraints(text) or (parse_constraints(fallback_text) if fallback_text else [])
    if not found:
        return None
    c = found[0]
    return NumericConstraint(comparator=c["comparator"], value=c["value"], value_high=c["value_high"],
                             unit=c["unit"], relative_to=c["relative_to"], text=c["text"])


def _attach_values(text: str, ents: list[CriterionEntity]) -> None:
    """Give each Value entity its parsed constraint and copy it to the entity it qualifies.

    The comparator is often just outside the NER's value span ("greater than | 60"), so the parse
    also looks at up to 30 characters before the value.
    """
    for v in [e for e in ents if e.type == "value"]:
        lead = text[max(0, v.start - 30):v.start]
        lead = re.split(r"[;:,()]", lead)[-1]
        v.constraint = _constraint(lead + v.text if not re.match(r"\s*[<>≤≥=]", v.text) else v.text, v.text)
        host = _nearest(ents, v, _VALUE_HOSTS)
        if v.constraint and host and host.constraint is None:
            host.constraint = v.constraint
            _share_with_list(text, ents, host)
    for m in [e for e in ents if e.type == "measurement" and e.constraint is None]:
        nxt = [e.start for e in ents if e.start >= m.end and e.type in CORE_TYPES]
        window = text[m.end:min(nxt[0] if nxt else len(text), m.end + 40)]
        c = _constraint(window)
        if c:
            m.constraint = c
            m.source = "rule"


def _share_with_list(text: str, ents: list[CriterionEntity], host: CriterionEntity) -> None:
    """"AST, ALT < 2.5 x ULN": give the value to the measurements listed before its host too."""
    if host.type != "measurement":
        return
    prev = host
    for e in reversed([x for x in ents if x.end <= host.start]):
        if e.type != "measurement":
            break
        if e.constraint is not None or not re.fullmatch(r"[\s,/]*(?:and|or|and/or)?[\s,/]*", text[e.end:prev.start]):
            break
        e.constraint = host.constraint
        e.source = "rule"
        prev = e


def _attach_temporal(ents: list[CriterionEntity]) -> None:
    for t in [e for e in ents if e.type == "temporal"]:
        parsed = parse_temporal(t.text)
        if not parsed:
            continue
        t.temporal = TemporalWindow(**parsed)
        host = _nearest(ents, t, CORE_TYPES)
        if host and host.temporal is None:
            host.temporal = t.temporal


def _attach_qualifiers(ents: list[CriterionEntity]) -> None:
    for q in [e for e in ents if e.type in ("qualifier", "multiplier")]:
        after = [e for e in ents if e.type in CORE_TYPES and e.start >= q.end and e.start - q.end <= 3]
        host = after[0] if after else _nearest(ents, q, CORE_TYPES)
        if host is not None:
            host.qualifiers.append(q.normalized)


def _logic(text: str, ents: list[CriterionEntity], kind: str) -> Logic | None:
    """AND/OR between consecutive core entities, read from the words that join them.

    "or", "/" and "and/or" join with OR, as does an opening parenthesis (an abbreviation or synonym);
    "and", "with", "plus" (or any other words) with AND; a bare comma inherits the conjunction that
    closes the list ("A, B or C" is OR). Consecutive OR-joined entities form one OR group and groups
    are ANDed. A list closed by nothing defaults to OR in an exclusion (any one excludes) and AND in
    an inclusion.
    """
    core = [e for e in ents if e.type in CORE_TYPES]
    if not core:
        return None
    if len(core) == 1:
        return Logic(op="AND", args=[core[0].id])
    joins: list[str | None] = []
    for a, b in zip(core, core[1:], strict=False):
        gap = text[a.end:b.start].lower()
        if re.search(r"\bor\b|/|\bnor\b|\beither\b", gap):
            joins.append("OR")
        elif re.search(r"\band\b|\bwith\b|\bplus\b|\bas well as\b", gap):
            joins.append("AND")
        elif gap.strip() == "(":  # "Peripheral Arterial Disease (PAD)": a synonym or abbreviation
            joins.append("OR")
        elif (re.fullmatch(r"[\s,;()]*", gap) and "," in gap) or gap.strip() in (")", ""):
            joins.append(None)
        else:
            joins.append("AND")
    default = "OR" if kind == "exclusion" else "AND"
    for i in range(len(joins) - 1, -1, -1):
        if joins[i] is None:
            nxt = next((j for j in joins[i + 1:] if j is not None), None)
            joins[i] = nxt or default
    groups: list[list[str]] = [[core[0].id]]
    for join, ent in zip(joins, core[1:], strict=True):
        if join == "OR":
            groups[-1].append(ent.id)
        else:
            groups.append([ent.id])
    args: list[str | Logic] = [g[0] if len(g) == 1 else Logic(op="OR", args=list(g)) for g in groups]
    if len(args) == 1 and isinstance(args[0], Logic):
        return args[0]
    return Logic(op="AND", args=args)


def _overall_age(crits: list[Criterion]) -> AgeRule | None:
    """Combine criteria age rules: inclusion bounds intersect; a one-sided exclusion bound flips."""
    lo = hi = None
    lo_inc = hi_inc = True
    texts = []
    for c in crits:
        if not c.age:
            continue
        a = c.age
        texts.append(a.text)
        if c.kind == "exclusion":
            if a.max_years is not None and a.min_years is None:  # exclude age < 18 -> include >= 18
                a = AgeRule(min_years=a.max_years, min_inclusive=not a.max_inclusive)
            elif a.min_years is not None and a.max_years is None:  # exclude age > 75 -> include <= 75
                a = AgeRule(max_years=a.min_years, max_inclusive=not a.min_inclusive)
            else:
                continue
        if a.min_years is not None and (lo is None or a.min_years > lo):
            lo, lo_inc = a.min_years, a.min_inclusive
        if a.max_years is not None and (hi is None or a.max_years < hi):
            hi, hi_inc = a.max_years, a.max_inclusive
    if lo is None and hi is None:
        return None
    return AgeRule(min_years=lo, max_years=hi, min_inclusive=lo_inc, max_inclusive=hi_inc, text=" | ".join(texts))


def _overall_sex(crits: list[Criterion]) -> str | None:
    sexes = {c.sex for c in crits if c.kind == "inclusion" and c.sex}
    specific = sexes - {"all"}
    if len(specific) == 1:
        return specific.pop()
    return "all" if sexes else None


def default_chia_dir() -> Path:
    """Where the Chia corpus is looked for: ``THERALAB_CHIA_DIR`` or ``../shared/data/trials/chia``."""
    return Path(os.environ.get("THERALAB_CHIA_DIR", Path.cwd().parent / "shared" / "data" / "trials" / "chia"))


def chia_trial_text(nct_id: str, folder: Path | None = None) -> str:
    """A Chia trial's criteria as ClinicalTrials.gov-style text with Inclusion/Exclusion headers.

    Raises:
        InputError: a malformed NCT id. NotFoundError: the trial is not in the corpus folder.
    """
    nct = nct_id.strip().upper()
    if not re.fullmatch(r"NCT\d{8}", nct):
        raise InputError(f"{nct_id!r} is not an NCT id", where="nct_id", hint="NCT followed by 8 digits")
    folder = Path(folder) if folder else default_chia_dir()
    parts: list[str] = []
    for kind, suffix in (("Inclusion", "inc"), ("Exclusion", "exc")):
        path = folder / f"{nct}_{suffix}.txt"
        if path.exists():
            body = path.read_text(encoding="utf-8").strip()
            parts.append(f"{kind} Criteria:\n" + "\n".join(f"- {ln.strip()}" for ln in body.splitlines() if ln.strip()))
    if not parts:
        raise NotFoundError(f"trial {nct} is not in the Chia corpus at {folder}", where="nct_id",
                            hint="set THERALAB_CHIA_DIR or pass a criteria text file")
    return "\n\n".join(parts) + "\n"


def summary(criteria: Criteria) -> dict[str, Any]:
    """Counts for display: criteria per kind, entities, mapped and unmapped core entities."""
    core = [e for c in criteria.criteria for e in c.entities if e.type in CORE_TYPES]
    return {"inclusion": len(criteria.inclusion()), "exclusion": len(criteria.exclusion()),
            "entities": sum(len(c.entities) for c in criteria.criteria), "core_entities": len(core),
            "mapped": sum(1 for e in core if e.codes), "unmapped": sum(1 for e in core if not e.codes)}
