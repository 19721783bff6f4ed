"""Synthetic trials whose outcome is known by construction, for training tiny real models fast.

Successful trials test small drugs (aspirin, ibuprofen) with one exclusion criterion; failed ones
test large molecules (or drugs of unknown structure) with four exclusion criteria and an upper age
limit. Only four criteria texts are used, so the criteria parser runs four times per featurisation.
"""

from __future__ import annotations

import pytest

from theralab.trials.outcome import TrialRecord

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
IBUPROFEN = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
PACLITAXEL = ("CC1=C2C(C(=O)C3(C(CC4C(C3C(C(C2(C)C)(CC1OC(=O)C(C(C5=CC=CC=C5)NC(=O)C6=CC=CC=C6)O)O)"
              "OC(=O)C7=CC=CC=C7)(CO4)OC(=O)C)O)C)OC(=O)C")
GOOD_TEXT = ["Inclusion Criteria:\n- Age >= 18 years\n- Type 2 diabetes\nExclusion Criteria:\n- Pregnancy\n",
             "Inclusion Criteria:\n- Adults\n- Hypertension\nExclusion Criteria:\n- Pregnancy\n"]
BAD_TEXT = ["Inclusion Criteria:\n- Age 18 to 40 years\n- Metastatic breast cancer\nExclusion Criteria:\n"
            "- Pregnancy\n- Heart failure\n- Hepatitis B infection\n- Creatinine > 2 mg/dL\n",
            "Inclusion Criteria:\n- Age 18 to 45 years\n- Glioblastoma\nExclusion Criteria:\n"
            "- Pregnancy\n- Prior chemotherapy\n- HIV infection\n- Bilirubin > 1.5 x ULN\n"]


def make_trials(n: int = 48) -> list[TrialRecord]:
    """``n`` labelled trials, half successes, alternating templates."""
    out = []
    for i in range(n):
        good = i % 2 == 0
        if good:
            drug = {"name": "aspirin", "smiles": ASPIRIN} if i % 4 == 0 else {"name": "ibuprofen", "smiles": IBUPROFEN}
            drugs = [drug]
            codes = ["E11.9"] if i % 4 == 0 else ["I10"]
        else:
            drugs = [{"name": "paclitaxel", "smiles": PACLITAXEL}] if i % 4 == 1 else [{"name": "mab-x"}]
            codes = ["C50.911"] if i % 4 == 1 else ["C71.9"]
        text = (GOOD_TEXT if good else BAD_TEXT)[(i // 2) % 2]
        out.append(TrialRecord(nct_id=f"NCT9{i:07d}", phase="phase 2", diseases=["d"], icd_codes=codes, drugs=drugs,
                               criteria=text, label=int(good), status="completed" if good else "terminated",
                               why_stop=None if good else "lack of efficacy"))
    return out


@pytest.fixture(scope="session")
def tiny_trials() -> list[TrialRecord]:
    return make_trials()


@pytest.fixture(scope="session")
def tiny_model(tiny_trials):
    """A real LightGBM + network trained on the synthetic trials (3 folds, few epochs)."""
    from theralab.trials.outcome import train_model

    return train_model(tiny_trials, name="tiny-outcome", folds=3, epochs=25, rounds=60,
                       gbm_params={"min_data_in_leaf": 3, "feature_fraction": 0.8}, source="synthetic")
