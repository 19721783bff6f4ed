"""The structured, editable form of eligibility criteria (pydantic), and user corrections.

Why pydantic with ``extra="forbid"``: a parse is shown in the UI, corrected by a person, stored
as JSON and re-loaded by matching; strict models make a misspelt field in a stored correction an
error instead of a silently ignored edit. ``Criteria.model_validate_json(c.model_dump_json())``
round-trips exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from theralab.errors import InputError

Kind = Literal["inclusion", "exclusion"]
EntityType = Literal["condition", "drug", "procedure", "measurement", "device", "observation", "person", "value",
                     "temporal", "negation", "qualifier", "multiplier", "mood", "visit"]
System = Literal["snomed", "icd10cm", "loinc", "rxnorm"]
#: Entity types that take part in a criterion's AND/OR logic and are mapped to codes.
CORE_TYPES = ("condition", "drug", "procedure", "measurement", "observation", "device")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Code(_Strict):
    """A code for an entity. ``match``: exact, partial (a contained term), fuzzy (typo) or manual (user)."""

    system: System
    code: str
    display: str = ""
    match: Literal["exact", "partial", "fuzzy", "manual"] = "exact"


class NumericConstraint(_Strict):
    """``value`` (and ``value_high`` for ``between``) with comparator and unit, e.g. ``< 1.5 x ULN``."""

    comparator: Literal["<", "<=", ">", ">=", "=", "between"]
    value: float
    value_high: float | None = None
    unit: str | None = None
    relative_to: Literal["ULN", "LLN"] | None = None
    text: str = ""


class TemporalWindow(_Strict):
    """When an event must (not) have happened: ``within`` 30 days, ``at_least`` 4 weeks ago, etc."""

    relation: Literal["within", "at_least", "duration", "during", "current", "since"]
    amount: float | None = None
    unit: Literal["hour", "day", "week", "month", "year"] | None = None
    days: float | None = None
    anchor: str | None = None
    text: str = ""


class AgeRule(_Strict):
    """Age bounds in years; None means unbounded on that side."""

    min_years: float | None = None
    max_years: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    text: str = ""


class CriterionEntity(_Strict):
    """An entity in a criterion. Offsets are into the criterion's ``text``."""

    id: str
    type: EntityType
    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    normalized: str = ""
    negated: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    codes: list[Code] = Field(default_factory=list)
    constraint: NumericConstraint | None = None
    temporal: TemporalWindow | None = None
    qualifiers: list[str] = Field(default_factory=list)
    score: float = 1.0
    source: Literal["model", "rule", "user"] = "model"

    @property
    def mapped(self) -> bool:
        """True when at least one code is attached."""
        return bool(self.codes)


class Logic(_Strict):
    """AND/OR over entity ids and nested groups: ``{"op": "AND", "args": [{"op": "OR", ...}, "e2"]}``."""

    op: Literal["AND", "OR"]
    args: list[str | Logic]

    def entity_ids(self) -> list[str]:
        """Every entity id the expression mentions, in order."""
        out: list[str] = []
        for a in self.args:
            out.extend([a] if isinstance(a, str) else a.entity_ids())
        return out


class Criterion(_Strict):
    """One criterion: kind, its text and offsets in the source, entities, logic, age and sex rules."""

    id: str
    kind: Kind
    text: str
    start: int = 0
    end: int = 0
    level: int = 0
    parent: str | None = None
    entities: list[CriterionEntity] = Field(default_factory=list)
    logic: Logic | None = None
    age: AgeRule | None = None
    sex: Literal["female", "male", "all"] | None = None
    edited: bool = False
    note: str = ""

    def unmapped(self) -> list[CriterionEntity]:
        """Core entities without any code: flagged for a person to code or accept."""
        return [e for e in self.entities if e.type in CORE_TYPES and not e.codes]


class Edit(_Strict):
    """One change: add/update/delete an entity or a criterion. ``values`` holds the fields to set."""

    op: Literal["add_entity", "update_entity", "delete_entity", "add_criterion", "update_criterion",
                "delete_criterion"]
    criterion_id: str | None = None
    entity_id: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)


class CriteriaCorrection(_Strict):
    """A user's correction of a parse: who, when, why, and the edits (applied in order)."""

    author: str = ""
    note: str = ""
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    edits: list[Edit]


class Criteria(_Strict):
    """A parsed set of eligibility criteria, editable and JSON round-trippable."""

    trial_id: str | None = None
    source_text: str = ""
    criteria: list[Criterion] = Field(default_factory=list)
    age: AgeRule | None = None
    sex: Literal["female", "male", "all"] | None = None
    parser: dict[str, str] = Field(default_factory=dict)  # NER model name/version, code tables
    warnings: list[str] = Field(default_factory=list)
    corrections: list[CriteriaCorrection] = Field(default_factory=list)

    def inclusion(self) -> list[Criterion]:
        """The inclusion criteria."""
        return [c for c in self.criteria if c.kind == "inclusion"]

    def exclusion(self) -> list[Criterion]:
        """The exclusion criteria."""
        return [c for c in self.criteria if c.kind == "exclusion"]

    def get(self, criterion_id: str) -> Criterion:
        """The criterion with this id; InputError naming the known ids otherwise."""
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise InputError(f"no criterion {criterion_id!r}", where="criterion_id",
                         hint=f"known: {', '.join(c.id for c in self.criteria[:20])}")

    def unmapped(self) -> list[tuple[str, CriterionEntity]]:
        """(criterion id, entity) for every core entity without a code."""
        return [(c.id, e) for c in self.criteria for e in c.unmapped()]


def _validated(model: type[BaseModel], data: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise InputError(f"invalid correction: {first['msg']}", where=f"{where}.{loc}" if loc else where) from exc


def apply_correction(criteria: Criteria, correction: CriteriaCorrection | dict[str, Any]) -> Criteria:
    """Apply a user's correction and return a new :class:`Criteria` (the input is not changed).

    Every edit is validated against the models, so a stored correction either applies completely
    or raises :class:`~theralab.errors.InputError` naming the edit and field; it is then appended
    to ``corrections`` so the history travels with the JSON. Changing an entity's text without
    giving codes re-maps its codes.

    Raises:
        InputError: unknown criterion/entity id, or a field value the models reject.
    """
    from theralab.trials.criteria.codes import lookup

    if isinstance(correction, dict):
        correction = _validated(CriteriaCorrection, correction, "correction")
    data = criteria.model_dump(mode="json")
    for n, edit in enumerate(correction.edits):
        where = f"edits[{n}]"
        crits = data["criteria"]
        idx = {c["id"]: i for i, c in enumerate(crits)}
        if edit.op == "add_criterion":
            values = {"kind": "inclusion", "text": "", **edit.values, "edited": True}
            values.setdefault("id", f"{values['kind'][:3]}-u{len(crits) + 1}")
            if values["id"] in idx:
                raise InputError(f"criterion id {values['id']!r} already exists", where=where)
            crits.append(_validated(Criterion, values, where).model_dump(mode="json"))
            continue
        if edit.criterion_id not in idx:
            raise InputError(f"no criterion {edit.criterion_id!r}", where=f"{where}.criterion_id")
        crit = crits[idx[edit.criterion_id]]
        if edit.op == "delete_criterion":
            crits.pop(idx[edit.criterion_id])
            continue
        if edit.op == "update_criterion":
            merged = {**crit, **edit.values, "edited": True}
            crits[idx[edit.criterion_id]] = _validated(Criterion, merged, where).model_dump(mode="json")
            continue
        ents = crit["entities"]
        eidx = {e["id"]: i for i, e in enumerate(ents)}
        if edit.op == "add_entity":
            values = {"source": "user", **edit.values}
            values.setdefault("id", f"{edit.criterion_id}-u{len(ents) + 1}")
            if values["id"] in eidx:
                raise InputError(f"entity id {values['id']!r} already exists", where=where)
            ent = _validated(CriterionEntity, values, where)
            _check_bounds(ent, crit["text"], where)
            if not ent.codes and "codes" not in edit.values:
                ent.codes = [Code(**c) for c in lookup(ent.text, ent.type)[0]]
            ents.append(ent.model_dump(mode="json"))
        else:
            if edit.entity_id not in eidx:
                raise InputError(f"no entity {edit.entity_id!r} in criterion {edit.criterion_id!r}",
                                 where=f"{where}.entity_id", hint=f"known: {', '.join(eidx)}")
            if edit.op == "delete_entity":
                ents.pop(eidx[edit.entity_id])
                if crit.get("logic"):
                    crit["logic"] = _drop_from_logic(crit["logic"], edit.entity_id)
            else:
                old = ents[eidx[edit.entity_id]]
                merged = {**old, **edit.values, "source": "user"}
                ent = _validated(CriterionEntity, merged, where)
                _check_bounds(ent, crit["text"], where)
                if "codes" not in edit.values and (ent.text != old["text"] or ent.type != old["type"]):
                    ent.codes = [Code(**c) for c in lookup(ent.text, ent.type)[0]]
                ents[eidx[edit.entity_id]] = ent.model_dump(mode="json")
        crit["edited"] = True
        _validated(Criterion, crit, where)
    data["corrections"].append(correction.model_dump(mode="json"))
    return Criteria.model_validate(data)


def _check_bounds(ent: CriterionEntity, text: str, where: str) -> None:
    """Offsets must lie in the criterion text (start == end == 0 marks an entity implied, not written)."""
    if ent.start > ent.end or ent.end > len(text):
        raise InputError(f"entity offsets {ent.start}..{ent.end} fall outside the criterion text "
                         f"({len(text)} characters)", where=f"{where}.values.start",
                         hint="offsets are character positions in the criterion's text; use 0, 0 for an implied entity")


def _drop_from_logic(node: dict[str, Any], entity_id: str) -> dict[str, Any] | None:
    args = []
    for a in node["args"]:
        if isinstance(a, str):
            if a != entity_id:
                args.append(a)
        else:
            sub = _drop_from_logic(a, entity_id)
            if sub:
                args.append(sub)
    return {"op": node["op"], "args": args} if args else None
