"""ORGAN-style GAN and the SELFIES prior: short real trainings on a toy chemistry.

The toy corpus mixes molecules with and without nitrogen; a prior trained on it makes both. Shown
only nitrogen molecules as "real", the discriminator must learn to tell them apart and the
generator must shift towards them: a real adversarial effect, measured on samples.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from rdkit import Chem

from theralab.discovery.generate import execute_run, parse_run, sample_report
from theralab.discovery.generate.gan import Discriminator, train_gan
from theralab.discovery.generate.prior import Prior, Vocabulary, load_prior, train_prior
from theralab.discovery.generate.schemas import GANConfig
from theralab.errors import InputError

WITH_N = ["CCN", "CCCN", "NCCO", "c1ccncc1", "CC(N)C", "NCc1ccccc1", "CN(C)C", "CCNC"]
WITHOUT_N = ["CCO", "CCCO", "c1ccccc1", "CC(C)O", "OCc1ccccc1", "CCCC", "CC(=O)O", "COC"]
TINY = {"embed": 16, "hidden": 48, "layers": 1}
FAST = {"batch_size": 32, "g_learning_rate": 3e-3, "d_learning_rate": 3e-3, "d_pretrain_steps": 10,
        "beta": 0.0, "checkpoint_every": 5}


def _has_n(smiles: list[str]) -> float:
    mols = [Chem.MolFromSmiles(s) for s in smiles if s]
    mols = [m for m in mols if m is not None]
    return float(np.mean([m.HasSubstructMatch(Chem.MolFromSmarts("[#7]")) for m in mols])) if mols else 0.0


@pytest.fixture(scope="module")
def toy_prior(tmp_path_factory: pytest.TempPathFactory) -> Prior:
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("prior")
    stream = itertools.islice(itertools.cycle(WITH_N + WITHOUT_N), 16 * 120)
    train_prior(stream, out, Vocabulary.build(WITH_N + WITHOUT_N), batch_size=16, lr=1e-2, hparams=TINY,
                log=lambda *_: None)
    return load_prior(out)


def test_gan_moves_the_generator_towards_the_real_set(toy_prior: Prior, tmp_path) -> None:
    before = _has_n(toy_prior.sample(400, seed=1)[0])
    res = train_gan(toy_prior, itertools.cycle(WITH_N), GANConfig(discriminator_weight=1.0, **FAST),
                    max_steps=40, seed=0, checkpoint=tmp_path / "gan.pt")
    after = _has_n(res.generator.sample(400, seed=1)[0])
    assert 0.2 < before < 0.8  # the prior makes both kinds
    assert after > before + 0.15, (before, after)
    hist = res.history
    assert len(hist) == 40 and {"valid", "unique", "d_real", "d_fake", "kl"} <= set(hist.columns)
    # the discriminator learned something: real molecules look more real than the generator's
    assert hist["d_real"].tail(10).mean() > hist["d_fake"].head(10).mean()
    # the prior itself is untouched (it anchors the KL penalty)
    assert _has_n(toy_prior.sample(400, seed=1)[0]) == before


def test_gan_resumes_from_its_checkpoint(toy_prior: Prior, tmp_path) -> None:
    ckpt = tmp_path / "gan.pt"
    cfg = GANConfig(discriminator_weight=1.0, **FAST)
    first = train_gan(toy_prior, itertools.cycle(WITH_N), cfg, max_steps=5, checkpoint=ckpt)
    assert ckpt.exists() and len(first.history) == 5
    again = train_gan(toy_prior, itertools.cycle(WITH_N), cfg, max_steps=8, checkpoint=ckpt)
    assert list(again.history["step"]) == list(range(1, 9))  # 5 restored + 3 new steps
    saved = torch.load(ckpt, weights_only=True)
    assert saved["step"] == 8
    assert Discriminator.from_state(saved["discriminator"]).prob(toy_prior.encode_batch(["CCN"])[0]).shape == (1,)


def test_gan_needs_an_objective_below_lambda_one(toy_prior: Prior) -> None:
    with pytest.raises(InputError, match="needs an objective"):
        train_gan(toy_prior, itertools.cycle(WITH_N), GANConfig(discriminator_weight=0.5), max_steps=1)


def test_gan_run_file_optimises_its_scoring(toy_prior: Prior, tmp_path) -> None:
    toy_prior.save(tmp_path / "toy.pt")
    cfg = parse_run({
        "run": {"optimizer": "gan", "budget": 60, "prior": str(tmp_path / "toy.pt"), "top_k": 10},
        "scoring": {"components": [{"name": "n", "type": "substructure", "smarts": "[#7]"},
                                   {"name": "small", "type": "property", "descriptor": "heavy_atoms",
                                    "desirability": {"kind": "minimize", "low": 5, "high": 12}}]},
        "gan": {**FAST, "discriminator_weight": 0.3},
    })
    steps: list[dict] = []
    res = execute_run(cfg, out=tmp_path / "gan.csv", progress=steps.append)
    assert res.oracle.calls <= 60 and res.stopped == "budget"
    table = res.table()
    assert (tmp_path / "gan.csv").exists() and {"n", "small", "n_raw"} <= set(table.columns)
    assert table["score"].iloc[0] > 0.9 and table["n"].iloc[0] == 1.0  # the constraint holds at the top
    obj = [s["objective"] for s in steps]
    assert np.mean(obj[-5:]) > np.mean(obj[:5]), obj  # the generator's batches score better over time


def test_gan_run_refuses_pure_distribution_learning(tmp_path) -> None:
    cfg = parse_run({"run": {"optimizer": "gan", "budget": 20},
                     "scoring": {"components": [{"name": "q", "type": "qed"}]},
                     "gan": {"discriminator_weight": 1.0}})
    with pytest.raises(InputError, match="discriminator_weight below 1"):
        execute_run(cfg)


def test_selfies_vocabulary_round_trip_and_prior_is_always_valid(tmp_path) -> None:
    torch.manual_seed(0)
    corpus = WITH_N + WITHOUT_N
    vocab = Vocabulary.build(corpus, kind="selfies")
    assert vocab.kind == "selfies" and "[C]" in vocab.tokens
    ids = vocab.encode("c1ccncc1")
    assert ids is not None and Chem.CanonSmiles(vocab.decode(ids[1:])) == Chem.CanonSmiles("c1ccncc1")
    assert vocab.encode("C[Se]C") is None  # a token outside the vocabulary
    stream = itertools.islice(itertools.cycle(corpus), 16 * 40)
    train_prior(stream, tmp_path, vocab, batch_size=16, lr=1e-2, hparams=TINY, log=lambda *_: None)
    prior = load_prior(tmp_path)
    assert prior.vocab.kind == "selfies"  # the kind survives save/load
    smiles, _ = prior.sample(300, seed=0)
    assert sample_report(smiles)["validity"] == 1.0  # SELFIES: every sampled string decodes to a molecule
    seqs, kept = prior.encode_batch(["CCN", "C[Se]C"])
    assert kept == [0] and prior.log_likelihood(seqs).shape == (1,)
