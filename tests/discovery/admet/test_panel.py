"""The fast panel must give ADMET-AI's numbers: predictions, physchem and DrugBank percentiles."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest
from scipy.stats import percentileofscore

pytest.importorskip("admet_ai")


@pytest.fixture(scope="module")
def panel():
    from theralab.discovery.admet.panel import AdmetPanel

    return AdmetPanel(batch_size=20)  # several batches, so batching cannot change results


@pytest.fixture(scope="module")
def fifty(shared_data):
    frame = pd.read_csv(shared_data / "discovery" / "moleculenet" / "lipo.csv")
    return frame["smiles"].iloc[::40].head(50).tolist()


def test_panel_equals_admet_ai_on_50_molecules(panel, fifty):
    from admet_ai import ADMETModel

    ours = panel.predict_smiles(fifty)
    assert (ours["error"] == "").all()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        ref = ADMETModel().predict(fifty)
    got = ours.drop(columns=["smiles", "error"])
    got.index = ref.index
    assert list(got.columns) == list(ref.columns)  # same 104 columns, same order
    values = [c for c in ref.columns if not c.endswith("percentile")]
    assert len(values) == 52  # 41 TDC endpoints + 11 physico-chemical properties
    # the panel repeats Chemprop's float32 operations, so 1e-5 absolute holds everywhere, including
    # PPBR or clearance values near 100 (one float32 step there is 7.6e-6)
    assert np.max(np.abs(got[values].to_numpy() - ref[values].to_numpy())) < 1e-5
    pct = [c for c in ref.columns if c.endswith("percentile")]
    assert np.max(np.abs(got[pct].to_numpy() - ref[pct].to_numpy())) < 1e-5


def test_overlapped_and_sequential_runs_agree_bit_for_bit(fifty):
    import sys

    import torch

    from theralab.discovery.admet.panel import AdmetPanel

    threads, switch = torch.get_num_threads(), sys.getswitchinterval()
    overlapped = AdmetPanel(batch_size=16, percentiles=False).predict_smiles(fifty)
    # the panel restores the caller's torch threads and GIL switch interval
    assert (torch.get_num_threads(), sys.getswitchinterval()) == (threads, switch)
    sequential = AdmetPanel(batch_size=16, percentiles=False, overlap=False).predict_smiles(fifty)
    pd.testing.assert_frame_equal(overlapped, sequential, check_exact=True)


def test_percentiles_match_scipy(panel):
    rng = np.random.default_rng(0)
    ref = panel._reference["logP"]
    values = np.concatenate([rng.normal(2, 2, 200), ref[:20]])  # includes exact ties
    table = pd.DataFrame({c: np.zeros(len(values)) for c in panel.columns})
    table["logP"] = values
    got = panel.percentile_table(table)["logP_drugbank_approved_percentile"].to_numpy()
    expected = [percentileofscore(ref, v) for v in values]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_bad_rows_keep_their_place_with_a_reason(panel):
    huge = "C" * 250
    table = panel.predict_smiles(["CCO", "not a smiles", "", huge, "[Pt](Cl)(Cl)(N)N"])
    assert table["error"].iloc[0] == ""
    assert "SMILES" in table["error"].iloc[1]
    assert table["error"].iloc[2] == "empty SMILES"
    assert "250 heavy atoms" in table["error"].iloc[3]
    assert table["error"].iloc[4] == ""  # cisplatin: the featuriser takes it, ADMET-AI scores it
    assert table.loc[1:3, "AMES"].isna().all() and np.isfinite(table.loc[[0, 4], "AMES"]).all()
    assert 0 <= table["AMES"].iloc[0] <= 1
    assert table["molecular_weight"].iloc[0] == pytest.approx(46.069, abs=1e-3)


@pytest.fixture(scope="module")
def forking_panel():
    from theralab.discovery.admet.panel import AdmetPanel

    return AdmetPanel(batch_size=16, percentiles=False, fork_min=0)


def test_forked_rdkit_worker_gives_the_in_process_frame(forking_panel, fifty, monkeypatch):
    import os

    import torch

    from theralab.discovery.admet import feed as admet_feed

    forks = []
    real_fork = os.fork

    def counting_fork():
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(admet_feed.os, "fork", counting_fork)
    smiles = [*fifty[:20], "not a smiles", *fifty[20:]]
    threads = torch.get_num_threads()
    forked = forking_panel.predict_smiles(smiles)
    assert forks == [1]  # the RDKit half really ran in a child process
    assert torch.get_num_threads() == threads
    forking_panel.overlap = False
    try:
        sequential = forking_panel.predict_smiles(smiles)
    finally:
        forking_panel.overlap = True
    assert forks == [1]
    pd.testing.assert_frame_equal(forked, sequential, check_exact=True)
    assert forked["error"].iloc[20] != "" and forked["AMES"].iloc[[19, 21]].notna().all()


def test_a_failing_rdkit_worker_raises_instead_of_hanging(forking_panel, fifty, monkeypatch):
    from theralab.discovery.admet import physchem as admet_physchem
    from theralab.errors import ModelError

    def broken(mols):
        raise RuntimeError("physchem exploded")

    monkeypatch.setattr(admet_physchem, "physchem_table", broken)
    with pytest.raises(ModelError) as info:
        forking_panel.predict_smiles(fifty[:20])
    assert "physchem exploded" in (info.value.hint or "")


def test_no_fork_while_other_threads_run():
    import threading

    from theralab.discovery.admet.feed import can_fork

    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)  # like tqdm's monitor, which ADMET-AI starts
    helper.start()
    worker = threading.Thread(target=stop.wait)
    try:
        assert can_fork()
        worker.start()
        assert not can_fork()  # a server thread could hold a lock the child would wait on forever
        from_thread = []
        caller = threading.Thread(target=lambda: from_thread.append(can_fork()), daemon=True)
        caller.start()
        caller.join()
        assert from_thread == [False]  # request threads of a server never fork
    finally:
        stop.set()
        helper.join()
        if worker.is_alive():
            worker.join()
