"""Design insight for a draft protocol: risk, what drives it, similar past trials, and what-if edits.

For a draft, :func:`explain_protocol` gives the calibrated probability of success, the features
that lower (and raise) it most (exact TreeSHAP of the LightGBM model, fingerprint bits and ICD hash
buckets summed into one driver each), the nearest historical trials with their outcomes and
why-stopped text, and what-if edits of the eligibility criteria with the predicted change:
relax the upper or lower age limit, drop an exclusion criterion (each one is tried), or a user's own
edits. Given a database session with stored patients, each edit also reports the change in
eligible patients from the matching funnel (:func:`theralab.trials.matching.evaluate_cohort`).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from theralab.errors import InputError
from theralab.trials.outcome.features_protocol import (
    eligibility_features,
    text_features,
    text_hash_columns,
    text_hash_features,
)
from theralab.trials.outcome.labels import feature_label
from theralab.trials.outcome.predictor import OutcomeModel
from theralab.trials.outcome.schemas import TrialRecord


class WhatIfEdit(BaseModel):
    """An edit of a draft: ``drop_criterion`` (``criterion_id``), ``relax_upper_age`` or ``relax_lower_age``
    (to ``value`` years, or no limit when None)."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["drop_criterion", "relax_upper_age", "relax_lower_age"]
    criterion_id: str | None = None
    value: float | None = None


def _group(col: str) -> str:
    if col.startswith("drug_fp_"):
        return "drug_structure"
    if col.startswith("dis_cat_hash_"):
        return "disease_categories"
    return col


def drivers(model: OutcomeModel, frame: pd.DataFrame, top: int = 8) -> dict[str, list[dict[str, Any]]]:
    """Per-feature TreeSHAP contributions of one trial, grouped; the ``top`` lowering and raising it."""
    contrib, expected = model.contributions(frame)
    row = contrib.iloc[0]
    values = frame[model.columns].iloc[0]
    grouped: dict[str, float] = {}
    for col, v in row.items():
        grouped[_group(str(col))] = grouped.get(_group(str(col)), 0.0) + float(v)
    items = []
    for key, v in grouped.items():
        val = values[key] if key in values.index else None
        items.append({"feature": key, "label": feature_label(key),
                      "value": None if val is None or val != val else round(float(val), 4),
                      "contribution": round(v, 5)})
    lower = sorted((i for i in items if i["contribution"] < 0), key=lambda i: i["contribution"])[:top]
    raise_ = sorted((i for i in items if i["contribution"] > 0), key=lambda i: -i["contribution"])[:top]
    return {"lowering": lower, "raising": raise_, "expected_log_odds": [round(float(expected[0]), 5)]}


def _age_overall(criteria: Any) -> Any:
    """Recombine the overall age rule from the criteria left (inclusion bounds intersect)."""
    from theralab.trials.criteria import AgeRule

    lo = hi = None
    for c in criteria.criteria:
        a = c.age
        if a is None:
            continue
        if c.kind == "exclusion":
            if a.max_years is not None and a.min_years is None:
                a = AgeRule(min_years=a.max_years)
            elif a.min_years is not None and a.max_years is None:
                a = AgeRule(max_years=a.min_years)
            else:
                continue
        lo = a.min_years if a.min_years is not None and (lo is None or a.min_years > lo) else lo
        hi = a.max_years if a.max_years is not None and (hi is None or a.max_years < hi) else hi
    return None if lo is None and hi is None else AgeRule(min_years=lo, max_years=hi, text="(after edit)")


def remove_text(text: str, part: str) -> str:
    """``text`` without the first occurrence of ``part`` (whitespace-tolerant: wrapped lines match)."""
    words = part.split()
    if not words:
        return text
    return re.sub(r"\s+".join(map(re.escape, words)), " ", text, count=1)


def apply_edit(criteria: Any, text: str, edit: WhatIfEdit) -> tuple[Any, dict[str, float], str, str]:
    """(edited criteria, text-level features after the edit, description, criteria text after the edit)."""
    from theralab.trials.criteria import apply_correction

    tf = text_features(text)
    new_text = text
    if edit.op == "drop_criterion":
        crit = criteria.get(edit.criterion_id or "")
        new = apply_correction(criteria, {"author": "what-if", "edits": [
            {"op": "delete_criterion", "criterion_id": crit.id}]})
        drop = text_features(crit.text)
        tf = {k: max(0.0, tf[k] - drop[k]) for k in tf}
        new_text = remove_text(text, crit.text)
        desc = f"drop {crit.kind} {crit.id}: {' '.join(crit.text.split())[:90]}"
    else:
        key = "max_years" if edit.op == "relax_upper_age" else "min_years"
        touched = [c for c in criteria.criteria if c.age is not None and getattr(c.age, key) is not None]
        if not touched and not (criteria.age and getattr(criteria.age, key) is not None):
            raise InputError(f"the criteria state no {'upper' if key == 'max_years' else 'lower'} age limit",
                             where="edit.op")
        edits = []
        for c in touched:
            age = c.age.model_dump(mode="json")
            age[key] = edit.value
            edits.append({"op": "update_criterion", "criterion_id": c.id, "values": {"age": age}})
        new = (apply_correction(criteria, {"author": "what-if", "edits": edits}) if edits
               else criteria.model_copy(deep=True))
        new.age = _age_overall(new) if touched else new.age.model_copy(update={key: edit.value})
        word = "upper" if key == "max_years" else "lower"
        desc = f"relax the {word} age limit" + (
            f" to {edit.value:g} years" if edit.value is not None else " (no limit)")
    return new, tf, desc, new_text


def propose_edits(criteria: Any, max_drops: int = 40) -> list[WhatIfEdit]:
    """Edits worth trying: relax each stated age limit, drop each exclusion criterion."""
    out = []
    if criteria.age and criteria.age.max_years is not None:
        out.append(WhatIfEdit(op="relax_upper_age"))
    if criteria.age and criteria.age.min_years is not None and criteria.age.min_years > 18:
        out.append(WhatIfEdit(op="relax_lower_age", value=18.0))
    out += [WhatIfEdit(op="drop_criterion", criterion_id=c.id) for c in criteria.exclusion()[:max_drops]]
    return out


def _eligible(session: Any, criteria: Any) -> int:
    from theralab.trials.matching import evaluate_cohort

    return int(evaluate_cohort(session, criteria).funnel()["eligible"])


def explain_protocol(model: OutcomeModel, record: TrialRecord, *, edits: list[WhatIfEdit] | None = None,
                     session: Any = None, k: int = 5, top: int = 8, top_whatifs: int = 8) -> dict[str, Any]:
    """Everything a sponsor sees for one draft protocol (see the module docstring).

    Args:
        model: a trained outcome model.
        record: the draft.
        edits: what-ifs to evaluate; None proposes them (:func:`propose_edits`).
        session: a database session with patients for feasibility; None reports probability changes only.
        k: similar trials; top: drivers each way; top_whatifs: proposed what-ifs kept (largest gains first).
    """
    fs = model.features([record], keep_criteria=True)
    frame = fs.frame
    pred = model.predict_frame(frame).iloc[0]
    crit = fs.criteria.get(record.nct_id)
    base = float(pred["prob"])
    neural = round(float(pred["prob_neural"]), 4) if "prob_neural" in pred else None
    out: dict[str, Any] = {"nct_id": record.nct_id, "probability": round(base, 4), "probability_neural": neural,
                           "threshold": model.threshold, "predicted_success": bool(pred["predicted"]),
                           "drivers": drivers(model, frame, top),
                           "similar": model.reference.nearest(record, frame, k=k), "notes": fs.notes[record.nct_id],
                           "whatifs": [], "feasibility": None}
    if crit is None:
        out["notes"].append("what-if edits need criteria that parse; none evaluated")
        return out
    base_eligible = None
    if session is not None:
        base_eligible = _eligible(session, crit)
        out["feasibility"] = {"eligible": base_eligible}
    else:
        out["notes"].append("feasibility not computed: no patient database given (probability changes only)")
    proposed = edits is None
    rows = []
    for edit in (propose_edits(crit) if proposed else edits):
        try:
            new, tf, desc, new_text = apply_edit(crit, record.criteria, edit)
        except InputError as exc:
            if not proposed:
                raise
            out["notes"].append(f"what-if {edit.op} skipped: {exc.message}")
            continue
        feats, _ = eligibility_features(new, record.criteria)
        feats.update(tf)
        if model.text_hash:
            feats.update(zip(text_hash_columns(), text_hash_features([new_text])[0].astype(float), strict=True))
        edited = frame.copy()
        for key, v in feats.items():
            edited[key] = v
        prob = float(model.predict_frame(edited)["prob"].iloc[0])
        row = {"edit": edit.model_dump(), "description": desc, "probability": round(prob, 4),
               "change": round(prob - base, 4), "eligible": None, "eligible_change": None}
        if session is not None:
            row["eligible"] = _eligible(session, new)
            row["eligible_change"] = row["eligible"] - (base_eligible or 0)
        rows.append(row)
    rows.sort(key=lambda r: -r["change"])
    out["whatifs"] = rows[:top_whatifs] if proposed else rows
    return out


def batch_explain(model: OutcomeModel, frame: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """For many trials: the ``top`` features lowering each one's probability (for CSV output)."""
    contrib, _ = model.contributions(frame)
    grouped = contrib.T.groupby(lambda c: _group(str(c))).sum().T
    rows = []
    for nct, r in grouped.iterrows():
        neg = r[r < 0].sort_values()[:top]
        rows.append({"nct_id": nct, **{f"lowering_{i + 1}": f"{feature_label(n)} ({v:+.3f})"
                                       for i, (n, v) in enumerate(neg.items())}})
    return pd.DataFrame(rows).set_index("nct_id") if rows else pd.DataFrame(index=np.array([], dtype=str))
