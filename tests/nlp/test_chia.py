"""The k-fold split by trial behind the shipped NER's held-out estimate."""

from __future__ import annotations

import pytest

from theralab.errors import InputError
from theralab.nlp.chia import ChiaDoc, load_chia, split_trials, trial_fold


def _docs(n_trials: int) -> list[ChiaDoc]:
    return [ChiaDoc(f"NCT{i:08d}_{kind}", "x") for i in range(n_trials) for kind in ("inc", "exc")]


def test_folds_partition_the_trials_and_keep_both_blocks_of_a_trial_together():
    docs = _docs(23)
    seen: list[str] = []
    for k in range(5):
        train, test = trial_fold(docs, k, 5, 13)
        held = {d.trial for d in test}
        assert held.isdisjoint({d.trial for d in train})  # never a trial's inclusion in train, exclusion in test
        assert len(train) + len(test) == len(docs)
        assert len(held) in (4, 5)  # 23 trials in five near-equal folds
        seen += held
    assert sorted(seen) == sorted({d.trial for d in docs})  # every trial held out exactly once


def test_fold_zero_is_the_80_20_split_of_the_earlier_figures(shared_data):
    chia = load_chia(shared_data / "trials" / "chia")
    train, test = trial_fold(chia, 0, 5, 13)
    old_train, old_test = split_trials(chia, 0.2, 13)
    assert [d.doc_id for d in test] == [d.doc_id for d in old_test]
    assert [d.doc_id for d in train] == [d.doc_id for d in old_train]
    assert len({d.trial for d in test}) == 160


@pytest.mark.parametrize("fold", [-1, 5])
def test_a_fold_outside_the_range_is_refused(fold):
    with pytest.raises(InputError, match="not in 0..4"):
        trial_fold(_docs(10), fold, 5, 13)
