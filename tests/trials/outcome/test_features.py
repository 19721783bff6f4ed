"""Feature blocks: values checked against RDKit/ICD-10-CM by hand, and missing data said, never invented."""

from __future__ import annotations

import math

import pytest

from theralab.trials.outcome import TrialRecord, featurize
from theralab.trials.outcome.features import columns, modality_of
from theralab.trials.outcome.features_molecular import disease_features, drug_features, icd_chapter
from theralab.trials.outcome.features_protocol import design_features, eligibility_features, normalize_headers

from .conftest import ASPIRIN, IBUPROFEN


def _rec(**kw) -> TrialRecord:
    return TrialRecord(**{"nct_id": "T1", "phase": "phase 2", **kw})


def test_drug_block_mean_and_max_over_drugs():
    feats, notes = drug_features(_rec(drugs=[{"name": "aspirin", "smiles": ASPIRIN},
                                             {"name": "ibuprofen", "smiles": IBUPROFEN}]))
    # average molecular weights: aspirin 180.159, ibuprofen 206.285
    assert feats["drug_mean_mw"] == pytest.approx((180.159 + 206.285) / 2, abs=0.01)
    assert feats["drug_max_mw"] == pytest.approx(206.285, abs=0.01)
    assert feats["drug_n_smiles"] == 2 and feats["drug_missing"] == 0 and notes == []
    assert sum(feats[f"drug_fp_{i}"] for i in range(1024)) > 10


def test_missing_and_bad_structures_are_said():
    feats, notes = drug_features(_rec(drugs=[{"name": "mab", "smiles": None}, {"name": "x", "smiles": "C1CC"}]))
    assert feats["drug_missing"] == 1 and feats["drug_n_bad_smiles"] == 1
    assert math.isnan(feats["drug_mean_mw"])
    assert any("could not be read" in n for n in notes) and any("drug features missing" in n for n in notes)
    feats, notes = drug_features(_rec(drugs=[{"name": "Placebo"}]))
    assert feats["drug_placebo"] == 1 and "no drug with a readable SMILES" in notes[0]


def test_icd_chapters_and_unknown_codes():
    assert icd_chapter("C79.81") == (2, "C79")  # neoplasms
    assert icd_chapter("E11.9") == (4, "E11")  # endocrine
    assert icd_chapter("D02.20") == (2, "D02")
    assert icd_chapter("QQ1") is None
    feats, notes = disease_features(_rec(icd_codes=["C79.81", "C50.911", "E11.9", "QQ1"]))
    assert feats["dis_chapter_2"] == pytest.approx(2 / 3) and feats["dis_chapter_4"] == pytest.approx(1 / 3)
    assert feats["dis_n_unknown_codes"] == 1 and feats["dis_n_categories"] == 3
    assert "QQ1" in notes[0]
    feats, notes = disease_features(_rec(diseases=["asthma"]))
    assert feats["dis_missing"] == 1 and "names diseases but no codes" in notes[0]


def test_eligibility_from_the_criteria_parser():
    from theralab.trials.criteria import parse_criteria

    text = ("Inclusion Criteria:\n- Age 18 to 65 years\n- HbA1c between 7% and 10%\n"
            "Exclusion Criteria:\n- Pregnancy\n- ALT > 3 x ULN\n")
    feats, notes = eligibility_features(parse_criteria(text), text)
    assert feats["elig_parsed"] == 1 and notes == []
    assert feats["elig_n_inclusion"] == 2 and feats["elig_n_exclusion"] == 2
    assert feats["elig_age_min"] == 18 and feats["elig_age_max"] == 65 and feats["elig_age_span"] == 47
    assert feats["elig_n_lab_thresholds"] >= 2 and feats["elig_n_relative_uln"] == 1


def test_unparseable_criteria_fall_back_and_say_so():
    fs = featurize([_rec(criteria="")])
    row = fs.frame.iloc[0]
    assert row["elig_parsed"] == 0 and row["elig_chars"] == 0 and math.isnan(row["elig_n_inclusion"])
    assert any("criteria did not parse" in n for n in fs.notes["T1"])
    fs = featurize([_rec(criteria="--- ... ---")])
    assert fs.frame.iloc[0]["elig_parsed"] == 0 and fs.frame.iloc[0]["elig_chars"] == 11


def test_long_section_headers_are_shortened():
    text = "Exclusion Criteria (patients meeting any of these are\n  ineligible):\n- Pregnancy"
    assert normalize_headers(text).startswith("Exclusion Criteria:\n")
    glued = "Inclusion Criteria:- Schizophrenia\n\n  Exclusion Criteria:- Pregnancy\n  - HIV"
    want = "Inclusion Criteria:\n- Schizophrenia\n\n  Exclusion Criteria:\n- Pregnancy\n  - HIV"
    assert normalize_headers(glued) == want
    fs = featurize([_rec(criteria=glued)])
    assert fs.frame.iloc[0]["elig_n_inclusion"] == 1 and fs.frame.iloc[0]["elig_n_exclusion"] == 2


def test_design_block():
    feats, notes = design_features(_rec(phase="phase 1/phase 2", enrollment=99, arms=2))
    assert feats["design_phase"] == 1.5 and feats["design_log_enrollment"] == pytest.approx(math.log(100))
    assert feats["design_arms"] == 2 and math.isnan(feats["design_duration_months"])
    assert notes == ["design factors not given: duration"]


def test_feature_table_has_fixed_columns_and_modalities():
    fs = featurize([_rec(criteria="")])
    assert list(fs.frame.columns) == columns(False)
    assert {modality_of(c) for c in fs.frame.columns} == {"drug", "disease", "protocol"}
    assert modality_of("admet_mean_AMES") == "drug" and modality_of("design_arms") == "protocol"


def test_hashed_criteria_words_are_stateless_and_edit_aware():
    from theralab.trials.outcome.features_protocol import text_hash_features
    from theralab.trials.outcome.insight import remove_text

    a = text_hash_features(["Exclusion: heart failure", "Exclusion: heart failure 12"])
    assert a.shape == (2, 256) and (a[0] == a[1]).all() and a[0].sum() == 5  # 3 words + 2 word pairs; "12" dropped
    text = "Exclusion Criteria:\n- Heart\n   failure (NYHA III)\n- Pregnancy"
    assert remove_text(text, "Heart failure (NYHA III)") == "Exclusion Criteria:\n-  \n- Pregnancy"
    fs = featurize([_rec(criteria="")], text_hash=True)
    assert fs.frame.shape[1] == len(columns(False)) + 256
