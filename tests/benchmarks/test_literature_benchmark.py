"""The literature benchmark's scorers: exact-span NER P/R/F1 and the dictionary floor, on fixture abstracts."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "literature.py"


def _module():
    spec = importlib.util.spec_from_file_location("literature_bench", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ner_scores_and_dictionary_floor(test_data):
    from theralab.literature.readers import read_path

    bench = _module()
    gold, _ = read_path(test_data / "literature" / "cdr_dev_mini.PubTator.txt")
    assert bench.ner_scores(gold, gold)["Chemical"]["f1"] == 1.0
    half = copy.deepcopy(gold)
    for d in half:
        d.mentions = [m for m in d.mentions if m.type == "Disease"]
    s = bench.ner_scores(gold, half)
    assert s["Chemical"]["recall"] == 0.0 and s["Disease"]["f1"] == 1.0
    tagged = copy.deepcopy(gold)
    bench.dictionary_tagger(gold)(tagged)  # a dictionary of the same documents finds every gold string
    found = bench.ner_scores(gold, tagged)
    assert found["Chemical"]["recall"] == pytest.approx(1.0) and found["Disease"]["recall"] == pytest.approx(1.0)
