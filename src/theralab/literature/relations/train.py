"""Retrain the shipped relation models (the commands in their model cards).

Usage::

    python -m theralab.literature.relations.train cid       [--data ../shared/data/literature/bc5cdr] [--out DIR]
    python -m theralab.literature.relations.train chemprot  [--data ../shared/data/literature/chemprot] [--out DIR]

Both train on the training file only and tune on a split of it (CID: 20 % of training abstracts
pick the threshold and rounds; ChemProt: 20 % of training sentences pick the regularisation), then
report the development-set figure once, for the card.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

from theralab.errors import InputError

BC5CDR = Path("../shared/data/literature/bc5cdr")
CHEMPROT = Path("../shared/data/literature/chemprot")


def train_cid(data: Path = BC5CDR, out: Path | None = None, seed: int = 13) -> dict[str, Any]:
    """Train the CID model on ``CDR_TrainingSet``, report on ``CDR_DevelopmentSet``, save with its card."""
    from theralab.literature.readers import read_path
    from theralab.literature.relations.cid import WEIGHTS, CIDModel, cooccurrence, gold_triples, prf
    from theralab.models.registry import sha256_file

    train_file, dev_file = data / "CDR_TrainingSet.PubTator.txt", data / "CDR_DevelopmentSet.PubTator.txt"
    if not train_file.exists():
        raise InputError(f"{train_file} not found", hint="point --data to the BC5CDR folder")
    train, _ = read_path(train_file)
    t0 = time.perf_counter()
    model, report = CIDModel.train(train, seed=seed)
    report["train_seconds"] = round(time.perf_counter() - t0, 1)
    metrics: dict[str, Any] = {}
    if dev_file.exists():
        dev, _ = read_path(dev_file)
        pred = {(a, b, c) for a, b, c, p, _e in model.score(dev) if p >= model.threshold}
        gold_entities, floor = prf(pred, gold_triples(dev)), prf(cooccurrence(dev), gold_triples(dev))
        metrics.update({"dev_f1": round(gold_entities["f1"], 4), "dev_cooccurrence_f1": round(floor["f1"], 4),
                        "dev_gold_entities": gold_entities, "dev_cooccurrence": floor})
    report["threshold"] = round(report["threshold"], 4)
    metrics["tuning"] = report
    model.save(out or WEIGHTS, {
        "description": "LightGBM over document-level chemical-disease pair features (counts, title, sentence "
                       "distance, trigger and negation words, training-set priors); threshold tuned on 20% "
                       "of the training abstracts. Metrics: BC5CDR development set, gold entities.",
        "training_data": {"source": "BC5CDR CDR_TrainingSet.PubTator.txt (500 abstracts)",
                          "sha256": sha256_file(train_file), "rows": len(train)},
        "metrics": metrics, "seeds": [seed],
        "retrain": "python -m theralab.literature.relations.train cid --data ../shared/data/literature/bc5cdr"})
    return metrics


def train_chemprot(data: Path = CHEMPROT, out: Path | None = None, seed: int = 13) -> dict[str, Any]:
    """Train the ChemProt typer on ``train.jsonl`` (C tuned on 20 % of its sentences), report on ``dev.jsonl``, save."""
    from theralab.literature.relations.chemprot import WEIGHTS, ChemProtModel, micro_f1, read_chemprot
    from theralab.models.registry import sha256_file

    skipped: list[str] = []
    train_file = data / "train.jsonl"
    if not train_file.exists():
        raise InputError(f"{train_file} not found", hint="point --data to the ChemProt folder")
    rows = read_chemprot(train_file, skipped)
    sentences = sorted({r[0] for r in rows})  # split by sentence: pairs of one sentence stay together
    random.Random(seed).shuffle(sentences)
    held = set(sentences[: len(sentences) // 5])
    tune, fit = [r for r in rows if r[0] in held], [r for r in rows if r[0] not in held]
    scores = {}
    for c in (1.0, 4.0, 16.0, 64.0):
        m = ChemProtModel.train(fit, c=c, seed=seed)
        scores[c] = micro_f1([m.predict(*r[:5])[0] for r in tune], [r[5] for r in tune])
    best_c = max(scores, key=scores.__getitem__)
    t0 = time.perf_counter()
    model = ChemProtModel.train(rows, c=best_c, seed=seed)
    metrics: dict[str, Any] = {"tuning_micro_f1_by_C": scores, "C": best_c,
                               "train_seconds": round(time.perf_counter() - t0, 1), "skipped_lines": len(skipped)}
    dev_file = data / "dev.jsonl"
    if dev_file.exists():
        dev = read_chemprot(dev_file, skipped)
        metrics["dev_micro_f1"] = micro_f1([model.predict(*r[:5])[0] for r in dev], [r[5] for r in dev])
        metrics["dev_pairs"] = len(dev)
    model.save(out or WEIGHTS, {
        "description": "Multinomial logistic regression over word features of the chemical-gene pair's sentence "
                       "(between-words, context, entity words). Types a related pair into CPR:3,4,5,6,9; the "
                       "data holds related pairs only, so it does not decide whether a pair is related. "
                       "Metric: micro-F1 on the ChemProt development set (no 'false' class, unlike BLURB).",
        "training_data": {"source": "ChemProt (SciBERT copy) train.jsonl", "sha256": sha256_file(train_file),
                          "rows": len(rows)},
        "metrics": metrics, "seeds": [seed],
        "retrain": "python -m theralab.literature.relations.train chemprot --data ../shared/data/literature/chemprot"})
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``cid`` or ``chemprot``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=["cid", "chemprot"])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.model == "cid":
        metrics = train_cid(args.data or BC5CDR, args.out)
    else:
        metrics = train_chemprot(args.data or CHEMPROT, args.out)
    print(metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
