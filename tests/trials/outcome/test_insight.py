"""Design insight: drivers, what-if edits with predicted changes, and feasibility from the matching funnel."""

from __future__ import annotations

import pytest

from theralab.errors import InputError
from theralab.trials.outcome import WhatIfEdit, explain_protocol, parse_protocol

from .conftest import BAD_TEXT, PACLITAXEL


def _draft():
    return parse_protocol({"nct_id": "draft-1", "phase": "phase 2", "icd_codes": ["C50.911"],
                           "drugs": [{"name": "paclitaxel", "smiles": PACLITAXEL}], "criteria": BAD_TEXT[0]})


def test_drivers_whatifs_and_similar(tiny_model):
    out = explain_protocol(tiny_model, _draft(), k=3)
    assert 0 <= out["probability"] <= 1 and out["probability"] < 0.5
    assert out["drivers"]["lowering"] and all(d["contribution"] < 0 for d in out["drivers"]["lowering"])
    kinds = {w["edit"]["op"] for w in out["whatifs"]}
    assert "drop_criterion" in kinds and "relax_upper_age" in kinds
    drops = [w for w in out["whatifs"] if w["edit"]["op"] == "drop_criterion"]
    # failures were built with four exclusions, successes with one: dropping one must not lower the risk estimate
    assert max(w["change"] for w in drops) >= 0
    for w in out["whatifs"]:
        assert w["change"] == pytest.approx(w["probability"] - out["probability"], abs=1e-3)
    assert len(out["similar"]) == 3 and out["similar"][0]["label"] == 0
    assert any("feasibility not computed" in n for n in out["notes"])


def test_user_edits_and_bad_edits(tiny_model):
    out = explain_protocol(tiny_model, _draft(), edits=[WhatIfEdit(op="drop_criterion", criterion_id="exc-2")])
    assert len(out["whatifs"]) == 1 and "Heart failure" in out["whatifs"][0]["description"]
    with pytest.raises(InputError, match="no criterion"):
        explain_protocol(tiny_model, _draft(), edits=[WhatIfEdit(op="drop_criterion", criterion_id="exc-99")])
    with pytest.raises(InputError, match="no lower age limit|no upper age limit"):
        draft = _draft().model_copy(update={"criteria": "Inclusion Criteria:\n- Glioblastoma\n"})
        explain_protocol(tiny_model, draft, edits=[WhatIfEdit(op="relax_upper_age")])


def test_feasibility_change_from_the_patient_funnel(tiny_model, tmp_path):
    from theralab.ehr import tables as store
    from theralab.ehr.fhir import import_resources
    from theralab.ehr.synthetic import generate_cohort
    from theralab.runtime.db import Base, get_engine, session_scope
    from theralab.trials import tables as tstore
    from theralab.trials.criteria import parse_criteria
    from theralab.trials.matching import evaluate_cohort

    engine = get_engine(f"sqlite:///{tmp_path / 'f.db'}")
    Base.metadata.create_all(engine, tables=store.ehr_tables() + tstore.trial_tables())
    with session_scope(engine) as s:
        import_resources(list(generate_cohort(40, 3)), s, validate=False)
    text = "Inclusion Criteria:\n- Age 18 to 40 years\nExclusion Criteria:\n- Pregnancy\n"
    draft = _draft().model_copy(update={"criteria": text})
    with session_scope(engine) as s:
        out = explain_protocol(tiny_model, draft, session=s, edits=[WhatIfEdit(op="relax_upper_age")])
        base = evaluate_cohort(s, parse_criteria(text)).funnel()["eligible"]
    assert out["feasibility"]["eligible"] == base
    w = out["whatifs"][0]
    assert w["eligible_change"] == w["eligible"] - base and w["eligible_change"] > 0  # older patients now count


def test_criteria_words_model_updates_words_on_a_drop(tiny_trials):
    from theralab.trials.outcome import train_model

    model = train_model(tiny_trials, neural=False, folds=3, rounds=40, text_hash=True,
                        gbm_params={"min_data_in_leaf": 3, "feature_fraction": 0.8})
    assert model.text_hash and sum(c.startswith("elig_word_") for c in model.columns) == 256
    out = explain_protocol(model, _draft(), edits=[WhatIfEdit(op="drop_criterion", criterion_id="exc-2")])
    w = out["whatifs"][0]
    assert w["change"] == pytest.approx(w["probability"] - out["probability"], abs=1e-3)
