"""SMILES prior (streamed training, checkpoint/resume, sampling) and REINVENT-style RL on a tiny prior."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from theralab.discovery.generate import Oracle, Scorer, parse_scoring, sample_report
from theralab.discovery.generate.prior import Vocabulary, load_prior, tokenize, train_prior
from theralab.discovery.generate.rl import DiversityFilter, run_rl
from theralab.discovery.generate.schemas import RLConfig
from theralab.errors import InputError

WITH_N = ["CCN", "CCCN", "NCCO", "c1ccncc1", "CC(N)C", "NCc1ccccc1", "CN(C)C", "CCNC"]
WITHOUT_N = ["CCO", "CCCO", "c1ccccc1", "CC(C)O", "OCc1ccccc1", "CCCC", "CC(=O)O", "COC"]
TINY = {"embed": 16, "hidden": 48, "layers": 1}


def _stream(n: int):
    return itertools.islice(itertools.cycle(WITH_N + WITHOUT_N), n)


def test_tokenizer_and_vocabulary():
    assert tokenize("C[C@H](Cl)c1ccc[nH]1Br") == ["C", "[C@H]", "(", "Cl", ")", "c", "1", "c", "c", "c",
                                                "[nH]", "1", "Br"]
    vocab = Vocabulary.build(["CCl", "c1ccccc1"])
    assert vocab.tokens[:3] == ["<pad>", "^", "$"]
    ids = vocab.encode("CCl")
    assert vocab.decode(ids[1:]) == "CCl" and vocab.encode("CBr") is None
    with pytest.raises(InputError):
        tokenize("C&C")


def test_prior_trains_checkpoints_and_resumes(tmp_path):
    torch.manual_seed(0)
    vocab = Vocabulary.build(WITH_N + WITHOUT_N)
    first = train_prior(_stream(16 * 60), tmp_path, vocab, batch_size=16, lr=1e-2, checkpoint_every=20,
                        hparams=TINY, log=lambda *_: None)
    assert first["consumed"] == 960 and (tmp_path / "checkpoint.pt").exists()
    again = train_prior(_stream(16 * 90), tmp_path, batch_size=16, lr=1e-2, hparams=TINY, log=lambda *_: None)
    assert again["consumed"] == 1440 and again["steps"] == 90  # resumed: skipped the 960 seen
    prior = load_prior(tmp_path)
    smiles, tokens = prior.sample(200, seed=0)
    report = sample_report(smiles, train=set(WITH_N + WITHOUT_N))
    assert report["validity"] > 0.7 and report["n"] == 200  # 16 tiny molecules are easy to learn
    seqs, kept = prior.encode_batch(["CCO", "CCCCCCCCCCCCC[Se]"])
    assert kept == [0]
    assert prior.log_likelihood(seqs)[0].item() > -10  # a training molecule is likely


def test_sample_report_hand_counts():
    r = sample_report(["CCO", "OCC", "C1", "c1ccccc1"], train={"CCO"})
    assert r["validity"] == 0.75 and r["uniqueness"] == pytest.approx(2 / 3) and r["novelty"] == 0.5


def test_diversity_filter_caps_scaffold_buckets():
    f = DiversityFilter(bucket_size=2, min_score=0.5)
    smiles = ["Cc1ccccc1", "CCc1ccccc1", "CCCc1ccccc1", "C1CCNCC1", "CCO"]
    out = f(smiles, np.array([0.9, 0.9, 0.9, 0.9, 0.3]))
    assert list(out) == [0.9, 0.9, 0.0, 0.9, 0.3]  # third benzene hit is filtered; low score untouched


def test_rl_shifts_the_agent_towards_the_objective(tmp_path):
    torch.manual_seed(0)
    vocab = Vocabulary.build(WITH_N + WITHOUT_N)
    train_prior(_stream(16 * 120), tmp_path, vocab, batch_size=16, lr=1e-2, hparams=TINY, log=lambda *_: None)
    prior = load_prior(tmp_path)
    scoring = parse_scoring({"components": [{"name": "has_n", "type": "substructure", "smarts": "[#7]"}]})
    oracle = Oracle(Scorer(scoring), budget=1000)
    cfg = RLConfig(batch_size=32, sigma=20, learning_rate=5e-3, bucket_size=1000, min_unique=0.0)
    result = run_rl(oracle, prior, cfg, seed=0, max_steps=20)
    h = result.history
    assert len(h) == 20 and result.stopped == "max_steps 20"
    assert h["mean_score"].tail(4).mean() > h["mean_score"].head(4).mean() + 0.15
    # the prior itself is untouched (the agent is a copy)
    assert load_prior(tmp_path).net.out.weight.sum().item() == pytest.approx(prior.net.out.weight.sum().item())


def test_rl_stops_on_mode_collapse(tmp_path):
    torch.manual_seed(0)
    vocab = Vocabulary.build(WITH_N + WITHOUT_N)
    train_prior(_stream(16 * 20), tmp_path, vocab, batch_size=16, lr=1e-2, hparams=TINY, log=lambda *_: None)
    oracle = Oracle(lambda s: np.ones(len(s)), budget=1000)
    cfg = RLConfig(batch_size=16, min_unique=0.99, collapse_patience=2)  # 16 toy molecules: always "collapsed"
    result = run_rl(oracle, load_prior(tmp_path), cfg, seed=0, max_steps=50)
    assert result.stopped.startswith("mode collapse") and len(result.history) == 2


def test_prior_is_a_registered_style_model_usable_as_a_component(tmp_path):
    from theralab.models.base import load_predictor
    from theralab.models.registry import ModelCard, save_card

    torch.manual_seed(0)
    vocab = Vocabulary.build(WITH_N + WITHOUT_N)
    train_prior(_stream(16 * 30), tmp_path, vocab, batch_size=16, lr=1e-2, hparams=TINY, log=lambda *_: None)
    for extra in ("checkpoint.pt", "train_log.json"):
        (tmp_path / extra).unlink()
    save_card(tmp_path, ModelCard(name="tiny-prior", task="generation",
                                  loader="theralab.discovery.generate.prior:load_predictor_dir"))
    pred = load_predictor(str(tmp_path)).predict(["CCO", "C[Se]C"])
    assert pred["log_likelihood"][0] < 0 and np.isnan(pred["log_likelihood"][1])
    scoring = parse_scoring({"on_nan": "zero", "components": [
        {"name": "ll", "type": "model", "model": str(tmp_path),
         "desirability": {"kind": "maximize", "shape": "linear", "low": -40, "high": 0}}]})
    batch = Scorer(scoring)(["CCO", "C[Se]C"])
    assert batch.total[0] == pytest.approx(1 + pred["log_likelihood"][0] / 40) and batch.total[1] == 0.0


def test_cosine_decay_and_init_weights_resume(tmp_path):
    """Training from given weights with a decaying rate checkpoints in a form that resumes."""
    torch.manual_seed(0)
    vocab = Vocabulary.build(WITH_N + WITHOUT_N)
    base = train_prior(_stream(16 * 20), tmp_path / "base", vocab, batch_size=16, lr=1e-2, hparams=TINY,
                       log=lambda *_: None)
    assert base["consumed"] == 320
    out = tmp_path / "more"
    first = train_prior(_stream(16 * 50), out, init=load_prior(tmp_path / "base"), init_seen=320, batch_size=16,
                        lr=1e-2, lr_final=1e-3, checkpoint_every=5, log=lambda *_: None)
    assert first["consumed"] == 800 and first["steps"] == 30  # 320 skipped and counted, 480 trained
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)  # a numpy lr here made this fail
    assert isinstance(ckpt["optimizer"]["param_groups"][0]["lr"], float)
    again = train_prior(_stream(16 * 60), out, batch_size=16, lr=1e-3, log=lambda *_: None)
    assert again["consumed"] == 960
