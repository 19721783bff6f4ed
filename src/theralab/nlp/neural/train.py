"""Train the BiLSTM-CRF NER on Chia; the ``retrain`` command of the shipped ``chia-bilstm`` model.

``python -m theralab.nlp.neural.train --fold K --out DIR`` trains on four of the five folds by trial
of the 800 Chia trials and scores the fifth; ``--all --cv DIR0 … DIR4`` trains the shipped model on
every trial and pools the fold models' held-out figures into its card. Each run pre-trains word
vectors on the text of its training trials (never a held-out trial's) plus the titles and abstracts
of a PubTator corpus (BC5CDR in ``../shared``), trains one BiLSTM-CRF per seed and averages them as
an ensemble. While it trains, two auxiliary heads share its encoder (:mod:`theralab.nlp.neural.auxiliary`:
Chia's nested and grouping annotations, and BC5CDR's Disease and Chemical mentions); only the main
tagger is saved. ``--device cuda`` trains on a GPU where one is lent.

Why these choices: the training-entity dictionary feature is jackknifed over trial folds exactly as
for the CRF (:func:`theralab.nlp.train.train_crf`) so the network cannot learn to trust it blindly;
the number of epochs is fixed (chosen once on a 10% dev part of the training trials, recorded in
the card) so the held-out trials never steer training; word dropout teaches the ``<unk>`` vector.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from theralab.errors import InputError
from theralab.nlp.chia import ChiaDoc, bio_sequences, corpus_fingerprint, load_chia, split_trials, trial_fold
from theralab.nlp.neural.auxiliary import aux_head, aux_tasks
from theralab.nlp.neural.cv import cv_summary, pool_into_card
from theralab.nlp.neural.ner import GAZETTEER_FILE, VOCAB_FILE, WEIGHTS_FILE, NeuralNER, crf_masks
from theralab.nlp.neural.tagger import UNK, Vocab, batch_tensors, build_tagger, crf_nll, norm_word
from theralab.nlp.pubtator import PubTatorDoc, pubtator_docs
from theralab.nlp.tokens import split_lines, tokenize

DEFAULT_HP: dict[str, Any] = {
    "word_dim": 100,
    "char_dim": 25,
    "char_filters": 50,
    "feat_dim": 16,
    "hidden": 150,
    "layers": 1,
    "dropout": 0.5,
    "word_dropout": 0.05,
    "lr": 2e-3,
    "batch": 16,
    "epochs": 10,
    "clip": 5.0,
    "w2v_epochs": 5,
    "w2v_min_count": 2,
    "aux_layer2": 0.5,
    "aux_pubtator": 0.5,
}
SEED = 13
DEFAULT_SEEDS = (13, 14, 15)
MODEL_NAME = "chia-bilstm"
CARD_DESCRIPTION = (
    "BiLSTM-CRF ensemble with character CNN, our own word2vec vectors and a training-entity dictionary "
    "feature, tagging Chia entity types (BIO) in eligibility criteria and clinical text. Trained on the Chia "
    "corpus (Kury et al., Sci Data 2020), CC BY 4.0, with two auxiliary heads during training only: Chia's "
    "nested, Scope and Reference_point annotations, and the Disease and Chemical mentions of BC5CDR (Li et "
    "al., Database 2016; training and development abstracts)."
)
CARD_LICENCE = (
    "weights derived from Chia, CC BY 4.0: Kury et al., Sci Data 7:281 (2020), doi:10.1038/s41597-020-00620-0; "
    "and from BC5CDR (public domain mark): Li et al., Database 2016:baw068"
)
#: Subtracted from the ``O`` score before decoding: the networks leave vague entities (Qualifier,
#: Observation, Mood) unlabelled more often than they mislabel them, so a small bias toward entities
#: trades precision for recall. Chosen on the dev trials (10% of the training trials), never the test.
O_BIAS = 0.0


def unlabeled_lines(texts: list[str]) -> list[list[str]]:
    """Normalised token lines of raw criteria texts (for word2vec; nothing but the text is read)."""
    return [[norm_word(t.text) for t in tokenize(line)] for text in texts for _o, line in split_lines(text)]


def _encode_docs(
    docs: list[ChiaDoc], vocab: Vocab, gaz_of: Callable[[ChiaDoc], Any], grow: bool
) -> list[tuple[dict[str, Any], list[str], tuple[str, int]]]:
    """(encoded inputs, BIO labels, line key) per non-blank line; the key is (doc id, first offset)."""
    out = []
    for d in docs:
        gaz = gaz_of(d)
        for toks, labels in bio_sequences(d):
            if not toks:
                continue
            tags = gaz.tag(toks) if gaz is not None else None
            if grow:
                vocab.add_line(toks, tags)
            out.append((toks, tags, labels, (d.doc_id, toks[0].start)))
    return [(vocab.encode(t, g), lab, key) for t, g, lab, key in out]


def train_bilstm(
    docs: list[ChiaDoc],
    out_dir: Path,
    *,
    hp: dict[str, Any] | None = None,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    folds: int = 5,
    gazetteer: bool = True,
    dev: list[ChiaDoc] | None = None,
    log: Callable[[str], None] | None = None,
    threads: int = 1,
    abstracts: list[PubTatorDoc] | None = None,
    device: str = "cpu",
) -> Path:
    """Fit one BiLSTM-CRF per seed on ``docs`` and write the ensemble to ``out_dir``; returns ``model.pt``.

    Args:
        docs: annotated training documents.
        out_dir: written with ``model.pt``, ``vocab.json`` and (with ``gazetteer``) ``gazetteer.json``.
        hp: settings over :data:`DEFAULT_HP`.
        seeds: one network per seed; their CRF potentials are averaged at prediction time.
        folds: trial folds of the jackknifed dictionary feature.
        gazetteer: use the training-entity dictionary feature.
        dev: optional documents scored (overlap F1) after every epoch, for choosing ``epochs`` (on a
            GPU after the last epoch only: scoring runs on the CPU). The logged loss includes the
            auxiliary heads' losses.
        log: receives progress lines.
        threads: torch CPU threads; 1 by default: on two shared cores, more threads spin-wait and run
            many times slower than one.
        abstracts: annotated PubTator documents (e.g. BC5CDR): their titles and abstracts join the
            training documents' text for the word vectors, and their mentions train the auxiliary
            head when ``hp["aux_pubtator"] > 0`` (multi-task learning). One list for both, so every
            caller trains the same recipe; a held-out document's text never belongs here.
        device: ``"cpu"`` or ``"cuda"`` (a lent GPU trains a network in about half the time of one
            CPU core); the saved weights load on either.
    """
    import torch

    if not docs:
        raise InputError("no training documents")
    hp = {**DEFAULT_HP, **(hp or {})}
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train(docs, Path(out_dir), abstracts or [], hp, seeds, folds, gazetteer, dev,
                      log or (lambda _m: None), device)
    finally:
        torch.set_num_threads(previous)


def _train(
    docs: list[ChiaDoc],
    out_dir: Path,
    abstracts: list[PubTatorDoc],
    hp: dict[str, Any],
    seeds: tuple[int, ...],
    folds: int,
    gazetteer: bool,
    dev: list[ChiaDoc] | None,
    say: Callable[[str], None],
    device: str,
) -> Path:
    import numpy as np
    import torch

    from theralab.nlp.embeddings import train_word2vec
    from theralab.nlp.train import build_gazetteer

    out_dir.mkdir(parents=True, exist_ok=True)
    trials = sorted({d.trial for d in docs})
    fold_of = {t: i % folds for i, t in enumerate(trials)}
    gaz_fold = (
        {k: build_gazetteer([d for d in docs if fold_of[d.trial] != k]) for k in range(folds)} if gazetteer else {}
    )
    full_gaz = build_gazetteer(docs) if gazetteer else None
    if full_gaz is not None:
        full_gaz.save(out_dir / GAZETTEER_FILE)
    else:
        (out_dir / GAZETTEER_FILE).unlink(missing_ok=True)

    t0 = time.time()
    lines = unlabeled_lines([d.text for d in docs] + [a.text for a in abstracts])  # never held-out text
    if hp["w2v_epochs"] > 0:
        words, vecs = train_word2vec(
            lines, dim=hp["word_dim"], epochs=hp["w2v_epochs"], min_count=hp["w2v_min_count"], seed=seeds[0]
        )
    else:  # ablation: same vocabulary, random initial vectors
        words, _ = train_word2vec(lines, dim=hp["word_dim"], epochs=0, min_count=hp["w2v_min_count"])
        vecs = None
    say(f"word2vec: {len(words)} words in {time.time() - t0:.0f} s")
    vocab = Vocab()
    for w in words:
        vocab.words.setdefault(w, len(vocab.words))
    train_set = _encode_docs(docs, vocab, lambda d: gaz_fold.get(fold_of[d.trial]), grow=True)
    vocab.labels = ["O", *sorted({lab for _e, labels, _k in train_set for lab in labels} - {"O"})]
    lab_ix = {lab: i for i, lab in enumerate(vocab.labels)}
    vocab.save(out_dir / VOCAB_FILE)
    sizes = {
        "words": len(vocab.words),
        "chars": len(vocab.chars),
        "shapes": len(vocab.shapes),
        "cues": len(vocab.cues),
        "gaz": len(vocab.gaz),
        "labels": len(vocab.labels),
    }
    mask_trans, mask_start = crf_masks(vocab.labels)
    m_trans, m_start = mask_trans.to(device), mask_start.to(device)
    order = sorted(range(len(train_set)), key=lambda i: len(train_set[i][1]))
    batches = []
    for k in range(0, len(order), hp["batch"]):  # fixed batches of similar length, tensors built once
        idx = order[k : k + hp["batch"]]
        batch = batch_tensors([train_set[i][0] for i in idx])
        batch["keys"] = [train_set[i][2] for i in idx]
        tags = torch.zeros(batch["mask"].shape, dtype=torch.long)
        for r, i in enumerate(idx):
            tags[r, : len(train_set[i][1])] = torch.tensor([lab_ix[x] for x in train_set[i][1]])
        batches.append((batch, tags))
    aux = aux_tasks(docs, abstracts, vocab, full_gaz, batches, hp)
    pretrained = None if vecs is None else torch.from_numpy(np.asarray(vecs)) * 0.3 * float(np.sqrt(hp["word_dim"]))

    members = []
    for seed in seeds:
        torch.manual_seed(seed)
        rng = random.Random(seed)
        net = build_tagger(sizes, hp)
        with torch.no_grad():
            torch.nn.init.normal_(net.word.weight, 0.0, 0.3)
            net.word.weight[0].zero_()
            if pretrained is not None:
                net.word.weight[2 : 2 + len(words)] = pretrained
        heads = torch.nn.ModuleDict({n: aux_head(2 * hp["hidden"], len(t["labels"])) for n, t in aux.items()})
        net.to(device)
        heads.to(device)
        params = list(net.parameters()) + list(heads.parameters())
        opt = torch.optim.Adam(params, lr=hp["lr"])
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0 / (1.0 + 0.05 * e))
        for epoch in range(hp["epochs"]):
            net.train()
            rng.shuffle(batches)
            total = 0.0
            for bi, (batch, tags) in enumerate(batches):
                batch, tags = _dropped(batch, hp, device), tags.to(device)
                h = net.hidden(batch)
                em = net.out(net.drop(h))
                loss = crf_nll(em, tags, batch["mask"], net.trans + m_trans, net.start + m_start, net.end)
                for name, task in aux.items():
                    if name == "layer2":  # the same lines, a second tag layer
                        a_h, a_batch, a_tags = h, batch, batch["layer2"]
                    else:  # the next batch of the other corpus
                        a_batch, a_tags = task["batches"][(epoch * len(batches) + bi) % len(task["batches"])]
                        a_batch, a_tags = _dropped(a_batch, hp, device), a_tags.to(device)
                        a_h = net.hidden(a_batch)
                    loss = loss + task["weight"] * heads[name].nll(net.drop(a_h), a_tags, a_batch["mask"], task)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, hp["clip"])
                opt.step()
                total += loss.item() * len(tags)
            sched.step()
            msg = f"seed {seed} epoch {epoch + 1}: loss {total / len(train_set):.3f} ({time.time() - t0:.0f} s)"
            if dev and (device == "cpu" or epoch + 1 == hp["epochs"]):
                net.to("cpu")
                msg += f" dev overlap F1 {_dev_f1([net], vocab, full_gaz, dev, sizes, hp, out_dir):.4f}"
                net.to(device)
            say(msg)
        members.append(net.to("cpu"))
    path = out_dir / WEIGHTS_FILE
    _save(path, members, sizes, hp)
    if dev and len(members) > 1:
        say(f"ensemble dev overlap F1 {_dev_f1(members, vocab, full_gaz, dev, sizes, hp, out_dir):.4f}")
    return path


def _dropped(batch: dict[str, Any], hp: dict[str, Any], device: str) -> dict[str, Any]:
    """The batch on ``device`` with word dropout applied (words replaced by ``<unk>`` at random)."""
    import torch

    batch = {k: v.to(device) for k, v in batch.items() if k != "keys"}
    if hp["word_dropout"] > 0:
        drop = (torch.rand(batch["words"].shape, device=device) < hp["word_dropout"]) & batch["mask"]
        batch["words"] = batch["words"].masked_fill(drop, UNK)
    return batch


def _save(path: Path, members: list[Any], sizes: dict[str, int], hp: dict[str, Any]) -> None:
    import torch

    blob = {
        "sizes": sizes,
        "hp": hp,
        "members": [{k: v.detach().half() for k, v in m.state_dict().items()} for m in members],
    }
    torch.save(blob, path)


def _dev_f1(
    members: list[Any],
    vocab: Vocab,
    gaz: Any,
    dev: list[ChiaDoc],
    sizes: dict[str, int],
    hp: dict[str, Any],
    out_dir: Path,
) -> float:
    """Overlap F1 of the current networks on ``dev`` (used only to choose settings)."""
    from theralab.nlp.chia import flatten
    from theralab.nlp.train import predict_doc, score

    ner = NeuralNER.__new__(NeuralNER)  # the networks in memory, without a card or files on disk
    ner.vocab, ner.labels, ner.gazetteer, ner.model_dir = vocab, list(vocab.labels), gaz, out_dir
    ner.members, ner.o_bias = members, 0.0
    ner._mask_trans, ner._mask_start = crf_masks(ner.labels)
    for m in members:
        m.eval()
    try:
        preds = [predict_doc(ner, d) for d in dev]
    finally:
        for m in members:
            m.train()
    return score([flatten(d.spans) for d in dev], preds)["overall"]["overlap"]["f1"]


def _aux_summary(hp: dict[str, Any], n_abstracts: int, source: str) -> dict[str, Any]:
    """What the card says of the auxiliary training heads (``hp`` complete; weights 0 = off)."""
    return {"chia_second_layer": hp["aux_layer2"],
            "pubtator_disease_chemical": hp["aux_pubtator"],
            "pubtator_source": f"{n_abstracts} annotated abstracts ({source})" if hp["aux_pubtator"] > 0 else None}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train on every trial (``--all``, the shipped model) or on k-1 folds and score the held-out fold."""
    from theralab.models.registry import ModelCard, save_card
    from theralab.nlp.train import evaluate

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chia", type=Path, default=Path("../shared/data/trials/chia"))
    ap.add_argument(
        "--abstracts",
        default="../shared/data/literature/bc5cdr",
        help="folder of PubTator files whose titles and abstracts join the word-vector text ('none': "
        "the training trials' text only)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="model directory (default with --all: the shipped weights/chia-bilstm; required otherwise)",
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    ap.add_argument("--epochs", type=int, default=DEFAULT_HP["epochs"])
    ap.add_argument("--hidden", type=int, default=DEFAULT_HP["hidden"])
    ap.add_argument(
        "--hp",
        type=json.loads,
        default={},
        help='JSON overrides of DEFAULT_HP, e.g. \'{"layers": 2, "dropout": 0.33}\' (choose on --dev)',
    )
    ap.add_argument("--fold", type=int, default=0,
                    help="hold this fold's trials out and score them (fold 0 of 5 is the 80/20 split of every "
                    "earlier figure)")
    ap.add_argument("--folds", type=int, default=5, help="number of folds (by trial, seed 13)")
    ap.add_argument("--all", action="store_true",
                    help="train on every trial: the shipped model (no trial held out; its held-out estimate is "
                    "the k-fold result given with --cv)")
    ap.add_argument("--cv", type=Path, nargs="+", default=None,
                    help="with --all: the fold models' directories, whose held-out metrics are pooled into the card")
    ap.add_argument("--pool-only", action="store_true",
                    help="with --all --cv: write the pooled fold figures into the card of the model already in "
                    "--out, without training it again (the fold models finished after it)")
    ap.add_argument(
        "--dev",
        action="store_true",
        help="hold 10%% of the training trials out, print their F1 per epoch and stop: the held-out "
        "trials are not scored (for choosing settings); needs --out",
    )
    ap.add_argument("--no-gazetteer", action="store_true")
    ap.add_argument("--device", default="cpu", help="torch device for training: cpu (default) or cuda")
    ap.add_argument(
        "--o-bias",
        type=float,
        default=O_BIAS,
        help="subtracted from the O label's score at prediction (chosen on dev trials)",
    )
    args = ap.parse_args(argv)
    if args.out is None and (args.dev or not args.all):
        ap.error("--out is required unless --all: only the all-trials model replaces the shipped weights")
    if args.cv and not args.all:
        ap.error("--cv goes with --all")
    if args.pool_only and not args.cv:
        ap.error("--pool-only needs --all --cv FOLD_DIRS")
    cv = cv_summary(args.cv) if args.cv else None  # read first: a bad fold directory fails before training
    args.out = args.out or Path(__file__).resolve().parents[1] / "weights" / MODEL_NAME
    if args.pool_only:
        return pool_into_card(args.out, cv)
    hp = {**DEFAULT_HP, "epochs": args.epochs, "hidden": args.hidden, **args.hp}
    if args.abstracts == "none" and hp["aux_pubtator"] > 0:
        ap.error("--abstracts none leaves the auxiliary abstract task without data: add --hp '{\"aux_pubtator\": 0}'")
    docs = load_chia(args.chia)
    if args.all:
        train, test = docs, []
    else:
        train, test = trial_fold(docs, args.fold, args.folds, SEED)
    dev = None
    if args.dev:
        train, dev = split_trials(train, 0.1, SEED)
    abstracts = [] if args.abstracts == "none" else pubtator_docs(Path(args.abstracts))
    t0 = time.time()
    train_bilstm(
        train,
        args.out,
        abstracts=abstracts,
        hp=hp,
        seeds=tuple(args.seeds),
        dev=dev,
        gazetteer=not args.no_gazetteer,
        log=print,
        device=args.device,
    )
    seconds = time.time() - t0
    files = [WEIGHTS_FILE, VOCAB_FILE] + ([] if args.no_gazetteer else [GAZETTEER_FILE])
    save_card(
        args.out,
        ModelCard(
            name=MODEL_NAME, task="clinical-ner", weights=dict.fromkeys(files, ""), params={"o_bias": args.o_bias}
        ),
    )
    if dev:  # settings are chosen on the dev trials only; the held-out trials stay unseen
        summary = {"train_docs": len(train), "dev_docs": len(dev), "seconds": round(seconds, 1), "hp": hp}
        print(json.dumps(summary, indent=2))
        return summary
    metrics: dict[str, Any] = {"train_seconds": round(seconds, 1)}
    if test:
        model = NeuralNER(args.out)
        metrics["heldout_flattened"] = evaluate(model, test, flattened=True)
        metrics["heldout_all_gold_overall"] = evaluate(model, test, flattened=False)["overall"]
    if cv is not None:
        metrics["cv"] = cv
    split = (
        f"all {len({d.trial for d in train})} trials (none held out; held-out estimate: metrics.cv)"
        if args.all
        else f"{args.folds}-fold by trial, seed {SEED}, fold {args.fold} held out"
        + (" (= the 80/20 split)" if args.fold == 0 and args.folds == 5 else "")
    )
    retrain = "python -m theralab.nlp.neural.train --chia ../shared/data/trials/chia " + (
        "--all --cv FOLD0 FOLD1 FOLD2 FOLD3 FOLD4 (each from --fold K --seeds 13 --out FOLDK)"
        if args.all
        else f"--fold {args.fold} --out DIR"
    )
    card = ModelCard(
        name=MODEL_NAME,
        task="clinical-ner",
        version="2" if args.all else "1",
        description=CARD_DESCRIPTION,
        training_data={
            **corpus_fingerprint(train),
            "split": split,
            "fold": None if args.all else args.fold,
            "folds": args.folds,
            "test_trials": len({d.trial for d in test}),
            "word_vectors": "skip-gram on the text (no annotations) of the training trials"
            + (f" and {len(abstracts)} PubTator titles+abstracts ({args.abstracts})" if abstracts else ""),
            "auxiliary_tasks": _aux_summary(hp, len(abstracts), args.abstracts),
        },
        metrics=metrics,
        seeds=list(args.seeds),
        weights=dict.fromkeys(files, ""),
        retrain=retrain,
        params={**hp, "gazetteer": not args.no_gazetteer, "o_bias": args.o_bias},
        licence=CARD_LICENCE,
    )
    save_card(args.out, card)
    summary: dict[str, Any] = {"train_docs": len(train), "test_docs": len(test), "seconds": round(seconds, 1)}
    if test:
        summary["overall_flattened"] = metrics["heldout_flattened"]["overall"]
        summary["overall_all_gold"] = metrics["heldout_all_gold_overall"]
    if cv is not None:
        summary["cv"] = {k: v for k, v in cv.items() if k != "pooled"} | {"pooled_overall": cv["pooled"]["overall"]}
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
