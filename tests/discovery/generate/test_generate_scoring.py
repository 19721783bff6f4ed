"""Scoring: desirabilities against hand-computed values, aggregation, run-file validation, failures."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import QED, Crippen

from theralab.discovery.generate import Scorer, ScoringError, desirability, load_run, parse_run, parse_scoring
from theralab.discovery.generate.schemas import Desirability
from theralab.discovery.generate.scoring import aggregate
from theralab.errors import InputError

sys.path.insert(0, str(Path(__file__).parent))


def test_desirability_shapes_match_hand_values():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, np.nan])
    lin = desirability(x, Desirability(kind="maximize", shape="linear", low=1, high=3))
    assert np.allclose(lin[:5], [0, 0, 0.5, 1, 1]) and math.isnan(lin[5])
    step = desirability(x, Desirability(kind="minimize", shape="step", low=1, high=3))
    assert np.allclose(step[:5], [1, 1, 0, 0, 0])  # threshold at the midpoint 2: x >= 2 is undesired
    sig = desirability(np.array([2.0, 1.0]), Desirability(kind="maximize", low=1, high=3))
    assert sig[0] == pytest.approx(0.5) and sig[1] == pytest.approx(1 / (1 + math.exp(5)))
    rng = desirability(np.array([0.0, 2.0, 3.5, 5.0]),
                       Desirability(kind="range", shape="linear", low=1, high=3, width=1))
    assert np.allclose(rng, [0, 1, 0.5, 0])
    assert np.allclose(desirability(np.array([-0.2, 0.4, 1.3]), Desirability()), [0, 0.4, 1])


def test_weighted_means_hand_computed():
    des = np.array([[0.25, 1.0], [0.0, 1.0]])
    w = np.array([0.5, 0.5])
    assert aggregate(des, w, "geometric")[0] == pytest.approx(0.5)  # sqrt(0.25 * 1)
    assert aggregate(des, w, "geometric")[1] == 0.0  # a zero vetoes the molecule
    assert np.allclose(aggregate(des, w, "arithmetic"), [0.625, 0.5])


def test_scorer_components_and_constraints():
    cfg = parse_scoring({
        "aggregate": "arithmetic",
        "components": [
            {"name": "qed", "type": "qed", "weight": 3},
            {"name": "logp", "type": "property", "descriptor": "clogp",
             "desirability": {"kind": "range", "shape": "step", "low": 0, "high": 3}},
            {"name": "no_sulfur", "type": "substructure", "smarts": "[#16]", "mode": "forbid"},
            {"name": "sim", "type": "similarity", "smiles": "c1ccccc1O", "weight": 0},
            {"name": "sel", "type": "selectivity", "weight": 0,
             "on_target": {"name": "a", "type": "property", "descriptor": "heavy_atoms"},
             "off_target": {"name": "b", "type": "property", "descriptor": "rings"}},
        ],
    })
    batch = Scorer(cfg)(["c1ccccc1O", "CSc1ccccc1", "not a smiles"])
    t = batch.table
    m = Chem.MolFromSmiles("c1ccccc1O")
    assert t.loc[0, "qed"] == pytest.approx(QED.qed(m))
    assert t.loc[0, "logp_raw"] == pytest.approx(Crippen.MolLogP(m)) and t.loc[0, "logp"] == 1.0
    assert t.loc[0, "sim"] == pytest.approx(1.0)
    assert t.loc[0, "sel_raw"] == 7 - 1
    assert t.loc[1, "no_sulfur"] == 0.0
    # weights 3, 1, 1 (0-weight terms ignored) -> arithmetic mean
    assert batch.total[0] == pytest.approx((3 * QED.qed(m) + 1 + 1) / 5)
    assert batch.total[2] == 0.0 and not t.loc[2, "valid"] and "syntax" in t.loc[2, "error"]


def test_custom_scorer_and_nan_handling():
    cfg = parse_scoring({"components": [
        {"name": "len", "type": "custom", "function": "slow_scorers:atom_count",
         "desirability": {"kind": "maximize", "shape": "linear", "low": 0, "high": 10}},
        {"name": "flaky", "type": "custom", "function": "slow_scorers:some_nan"},
    ]})
    batch = Scorer(cfg)(["CCCCC", "CCN"])
    assert batch.total[0] == pytest.approx(math.sqrt(0.5 * 0.8))
    assert batch.total[1] == 0.0 and "flaky: NaN" in batch.table.loc[1, "error"]
    strict = parse_scoring({**cfg.model_dump(), "on_nan": "error"})
    with pytest.raises(ScoringError, match="flaky"):
        Scorer(strict)(["CCN"])


def test_hanging_and_raising_scorers_fail_with_their_name():
    hang = parse_scoring({"components": [{"name": "docking", "type": "custom",
                                          "function": "slow_scorers:hang", "timeout_s": 0.5}]})
    with pytest.raises(ScoringError, match="'docking' timed out after 0.5 s"):
        Scorer(hang)(["CCO"])
    boom = parse_scoring({"components": [{"name": "qsar", "type": "custom", "function": "slow_scorers:boom"}]})
    with pytest.raises(ScoringError, match="'qsar' raised RuntimeError: licence server"):
        Scorer(boom)(["CCO"])


@pytest.mark.parametrize("bad, match", [
    ({"components": [{"name": "x", "type": "docking"}]}, "does not match any of the expected tags"),
    ({"components": [{"name": "x", "type": "qed", "wieght": 1}]}, "Extra inputs are not permitted"),
    ({"components": [{"name": "x", "type": "qed", "weight": 0}]}, "weights sum to 0"),
    ({"components": [{"name": "x", "type": "qed", "weight": -1}]}, "weight must be"),
    ({"components": [{"name": "x", "type": "qed"}, {"name": "x", "type": "sa_score"}]}, "repeated: x"),
    ({"components": [{"name": "x", "type": "qed", "desirability": {"kind": "range", "low": 3, "high": 1}}]},
     "low < high"),
])
def test_bad_scoring_sections_are_refused(bad, match):
    with pytest.raises(InputError, match=match):
        parse_scoring(bad)


def test_bad_smarts_descriptor_and_custom_are_refused_at_load():
    with pytest.raises(InputError, match="SMARTS does not parse"):
        Scorer(parse_scoring({"components": [{"name": "s", "type": "substructure", "smarts": "[C"}]}))
    with pytest.raises(InputError, match="unknown descriptor 'mass'"):
        Scorer(parse_scoring({"components": [{"name": "p", "type": "property", "descriptor": "mass"}]}))
    with pytest.raises(InputError, match="cannot import"):
        Scorer(parse_scoring({"components": [{"name": "c", "type": "custom", "function": "nope_mod:f"}]}))


def test_run_file_roundtrip(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[run]\noptimizer = "ga"\nbudget = 50\n\n[scoring]\naggregate = "geometric"\n\n'
                    '[[scoring.components]]\nname = "qed"\ntype = "qed"\n\n'
                    '[[scoring.components]]\nname = "sa"\ntype = "sa_score"\n'
                    'desirability = { kind = "minimize", low = 2, high = 6 }\n')
    run = load_run(path)
    assert run.run.budget == 50 and [c.name for c in run.scoring.components] == ["qed", "sa"]
    with pytest.raises(InputError, match="run.budgett"):
        parse_run({"run": {"budgett": 3}, "scoring": {"components": [{"name": "q", "type": "qed"}]}})
    (tmp_path / "bad.toml").write_text("[run\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_run(tmp_path / "bad.toml")
