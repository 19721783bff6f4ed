"""The k-fold split by trial behind the shipped NER's held-out estimate."""

from __future__ import annotations

import pytest

from theralab.errors import InputError
from theralab.nlp.chia import ChiaDoc, bio_sequences, load_chia, read_ann, second_layer, split_trials, trial_fold


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


def test_second_layer_holds_what_flattening_drops_and_the_scopes():
    """Nested entities, then Reference_point, then Scope where free: the auxiliary task's tags."""
    text = "Ovarian cancer within 6 months of surgery\nHIV or hepatitis B"
    ann = "\n".join([
        "T1\tCondition 0 14\tOvarian cancer",
        "T2\tQualifier 0 7\tOvarian",
        "T3\tTemporal 15 41\twithin 6 months of surgery",
        "T4\tReference_point 34 41\tsurgery",
        "T5\tScope 42 60\tHIV or hepatitis B",
        "T6\tCondition 42 45\tHIV",
        "T7\tCondition 49 60\thepatitis B",
    ])
    doc = read_ann(text, ann, "NCT0_inc")
    assert [s.type for s in doc.structure] == ["Reference_point", "Scope"]
    flat = [(t.text, lab) for toks, labs in bio_sequences(doc) for t, lab in zip(toks, labs, strict=True)]
    second = [(t.text, lab) for toks, labs in second_layer(doc) for t, lab in zip(toks, labs, strict=True)]
    assert flat[0] == ("Ovarian", "B-Condition") and second[0] == ("Ovarian", "B-Qualifier")
    assert ("surgery", "B-Reference_point") in second and ("surgery", "I-Temporal") in flat
    assert [lab for _w, lab in second[-4:]] == ["B-Scope", "I-Scope", "I-Scope", "I-Scope"]
    assert [lab for _w, lab in flat[-4:]] == ["B-Condition", "O", "B-Condition", "I-Condition"]
