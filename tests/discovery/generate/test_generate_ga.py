"""Graph GA and GuacaMol objectives: a short real optimisation, hand-checked AUC, published definitions."""

from __future__ import annotations

import random

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import QED

from theralab.discovery.generate import Oracle, Scorer, get_objective, parse_scoring, run_ga, top_auc
from theralab.discovery.generate.graph_ops import crossover, mutate, ring_ok
from theralab.discovery.generate.objectives import CELECOXIB, OSIMERTINIB, gaussian, max_gaussian, min_gaussian
from theralab.discovery.generate.schemas import GAConfig
from theralab.errors import InputError, NotFoundError

START = ["CC(=O)Oc1ccccc1C(=O)O", "CCN(CC)CC", "c1ccc2ccccc2c1", "CCOC(=O)c1ccccc1", "CN1CCCC1c1cccnc1",
         "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "OC(=O)c1ccccc1O", "Cc1ccccc1", "CCCCCCO", "c1ccncc1", "CSc1ccccc1"]


def test_top_auc_hand_computed():
    # curve at calls 1, 2: top-2 means 0.1, 0.3; at 3: 0.4; held to 4 -> (0.05 + 0.2 + 0.35 + 0.4) / 4
    assert top_auc([0.1, 0.5, 0.3], top_n=2, finish=True, freq=1, max_calls=4) == pytest.approx(0.25)
    assert top_auc([0.1, 0.5, 0.3], top_n=2, finish=False, freq=1, max_calls=4) == pytest.approx(0.15)
    assert top_auc([1.0] * 10, top_n=10, finish=True, freq=100, max_calls=10) == pytest.approx(0.5)


def test_oracle_counts_unique_valid_molecules_and_stops_at_budget():
    oracle = Oracle(get_objective("qed"), budget=3)
    out = oracle(["CCO", "OCC", "bad((", "c1ccccc1", "CCN", "CCCC"])
    assert oracle.calls == 3 and oracle.invalid == 1  # CCO == OCC; CCCC is past the budget
    assert out[0] == out[1] == pytest.approx(QED.qed(Chem.MolFromSmiles("CCO")))
    assert out[2] == 0.0 and np.isnan(out[5])
    assert list(oracle.results()["rank"]) == [1, 2, 3]


def test_objectives_follow_published_definitions():
    assert get_objective("celecoxib_rediscovery")([CELECOXIB, "CCO"])[0] == pytest.approx(1.0)
    assert min_gaussian(0.5, 1, 1) == 1.0 and max_gaussian(0.0, 1, 1) == pytest.approx(gaussian(0, 1, 1))
    assert gaussian(2.0, 1.0, 1.0) == pytest.approx(np.exp(-0.5))
    # osimertinib itself: ECFP6 similarity 1 > 0.85 -> exp(-0.5 * 1.5^2); its TPSA 87.55 and logP 4.51
    osi = get_objective("osimertinib_mpo")([OSIMERTINIB])[0]
    assert 0.0 < osi < 0.2
    assert get_objective("median1")(["CC1(C)C2CCC1(C)C(=O)C2"])[0] > 0.0
    assert get_objective("logp_target")(["CCO", ""])[1] == 0.0
    with pytest.raises(NotFoundError):
        get_objective("drd2")


def test_graph_operators_return_valid_molecules():
    rng = random.Random(3)
    a, b = Chem.MolFromSmiles(START[5]), Chem.MolFromSmiles(START[4])
    children = [crossover(a, b, rng) for _ in range(10)]
    mutants = [mutate(a, rng, 1.0) for _ in range(10)]
    made = [m for m in children + mutants if m is not None]
    assert len(made) >= 10
    for m in made:
        assert Chem.MolFromSmiles(Chem.MolToSmiles(m)) is not None and ring_ok(m)


def test_ga_improves_score_and_keeps_constraints():
    scoring = parse_scoring({"components": [
        {"name": "qed", "type": "qed"},
        {"name": "no_sulfur", "type": "substructure", "smarts": "[#16]", "mode": "forbid"},
    ]})
    oracle = Oracle(Scorer(scoring), budget=250)
    rows = []
    result = run_ga(oracle, START, GAConfig(population_size=20, offspring_size=20), seed=1, progress=rows.append)
    start_best = max(QED.qed(Chem.MolFromSmiles(s)) for s in START if "S" not in s)
    table = result.table()
    assert oracle.calls <= 250 and rows and rows[-1]["calls"] == oracle.calls
    assert table["score"].iloc[0] > start_best + 0.1
    top = table.head(20)
    assert not any(Chem.MolFromSmiles(s).HasSubstructMatch(Chem.MolFromSmarts("[#16]")) for s in top["smiles"])
    assert {"qed", "qed_raw", "no_sulfur", "rank"} <= set(table.columns)


def test_ga_is_reproducible_and_refuses_empty_start():
    runs = [run_ga(Oracle(get_objective("qed"), budget=60), START, GAConfig(population_size=10,
                   offspring_size=10), seed=7).oracle.order for _ in range(2)]
    assert runs[0] == runs[1]
    with pytest.raises(InputError, match="at least 2 valid"):
        run_ga(Oracle(get_objective("qed"), budget=10), ["nope"], seed=0)
