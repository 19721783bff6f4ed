"""Train and evaluate the CRF NER on Chia; also the ``retrain`` command of the shipped model.

``python -m theralab.nlp.train --chia ../shared/data/trials/chia --out src/theralab/nlp/weights/chia-crf``
trains on the 80% training trials of the fixed split (seed 13), scores the 20% held-out trials and
writes the model with its card (metrics included).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theralab.errors import InputError
from theralab.nlp.chia import ChiaDoc, Span, bio_sequences, corpus_fingerprint, flatten, load_chia, split_trials
from theralab.nlp.clusters import build_clusters, save_clusters
from theralab.nlp.entities import bio_to_spans
from theralab.nlp.features import sequence_features
from theralab.nlp.gazetteer import Gazetteer
from theralab.nlp.ner import CLUSTERS_FILE, GAZETTEER_FILE, MODEL_FILE, ClinicalNER, crfsuite_module

if TYPE_CHECKING:
    from theralab.nlp.neural.ner import NeuralNER

DEFAULT_PARAMS: dict[str, Any] = {"c1": 0.2, "c2": 0.01, "max_iterations": 600,
                                  "feature.possible_transitions": True, "feature.minfreq": 1}
SEED = 13


def build_gazetteer(docs: list[ChiaDoc]) -> Gazetteer:
    return Gazetteer.from_spans([(sp.text, sp.type) for d in docs for sp in flatten(d.spans)])


def train_crf(docs: list[ChiaDoc], out_dir: Path, params: dict[str, Any] | None = None, *,
              gazetteer: bool = True, clusters: bool = False, folds: int = 5) -> Path:
    """Fit a CRF on ``docs`` and write ``out_dir/model.crfsuite`` (+ ``gazetteer.json``); returns its path.

    With ``gazetteer``, the training features of each of ``folds`` trial folds use a dictionary
    built from the other folds (jackknife), and the shipped dictionary holds all training entities.
    CRFsuite's L-BFGS is deterministic for given data and parameters, so a retrain reproduces the
    shipped weights on the same corpus.
    """
    if not docs:
        raise InputError("no training documents")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    trainer = crfsuite_module().Trainer(verbose=False)
    trials = sorted({d.trial for d in docs})
    fold_of = {t: i % folds for i, t in enumerate(trials)}
    gaz_by_fold: dict[int, Gazetteer] = {}
    if gazetteer:
        for k in range(folds):
            gaz_by_fold[k] = build_gazetteer([d for d in docs if fold_of[d.trial] != k])
        build_gazetteer(docs).save(out_dir / GAZETTEER_FILE)
    else:
        (out_dir / GAZETTEER_FILE).unlink(missing_ok=True)
    cl = None
    if clusters:
        cl = build_clusters([d.text for d in docs])
        save_clusters(cl, out_dir / CLUSTERS_FILE)
    else:
        (out_dir / CLUSTERS_FILE).unlink(missing_ok=True)
    n = 0
    for doc in docs:
        gaz = gaz_by_fold.get(fold_of[doc.trial])
        for toks, labels in bio_sequences(doc):
            if toks:
                trainer.append(sequence_features(toks, gaz.tag(toks) if gaz else None, cl), labels)
                n += 1
    if n == 0:
        raise InputError("the training documents contain no text")
    trainer.set_params({**DEFAULT_PARAMS, **(params or {})})
    path = out_dir / MODEL_FILE
    trainer.train(str(path))
    return path


def predict_doc(model: ClinicalNER | NeuralNER, doc: ChiaDoc) -> list[Span]:
    """Predicted spans of one document (a model with ``tag_lines`` tags all lines in one batch)."""
    if hasattr(model, "tag_lines"):
        lines = [toks for toks, _ in bio_sequences(doc) if toks]
        return [Span(etype, s, e, doc.text[s:e]) for toks, labels in zip(lines, model.tag_lines(lines), strict=True)
                for etype, s, e, _i, _j in bio_to_spans(toks, labels)]
    out = []
    for toks, _ in bio_sequences(doc):
        if toks:
            for etype, s, e, _i, _j in bio_to_spans(toks, model.tag_tokens(toks)):
                out.append(Span(etype, s, e, doc.text[s:e]))
    return out


def _prf(tp: float, n_pred: int, n_gold: int, tp_gold: float | None = None) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = (tp if tp_gold is None else tp_gold) / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "gold": n_gold, "pred": n_pred}


def score(gold_docs: list[list[Span]], pred_docs: list[list[Span]]) -> dict[str, dict[str, dict[str, float]]]:
    """Entity P/R/F1, exact and overlap, per type and overall (micro).

    Exact: same type, start and end. Overlap: same type and at least one shared character
    (precision counts predictions that overlap some gold entity, recall gold entities overlapped by
    some prediction; the usual lenient measure of the i2b2/n2c2 evaluations).
    """
    counts: dict[str, Counter] = {}
    for gold, pred in zip(gold_docs, pred_docs, strict=True):
        for t in {s.type for s in gold} | {s.type for s in pred}:
            g = [s for s in gold if s.type == t]
            p = [s for s in pred if s.type == t]
            gset = {(s.start, s.end) for s in g}
            c = counts.setdefault(t, Counter())
            c["gold"] += len(g)
            c["pred"] += len(p)
            c["exact"] += sum((s.start, s.end) in gset for s in p)
            c["ov_p"] += sum(any(s.start < x.end and x.start < s.end for x in g) for s in p)
            c["ov_r"] += sum(any(s.start < x.end and x.start < s.end for x in p) for s in g)
    total = Counter()
    for c in counts.values():
        total.update(c)
    rows = {**dict(sorted(counts.items())), "overall": total}
    return {t: {"exact": _prf(c["exact"], c["pred"], c["gold"]),
                "overlap": _prf(c["ov_p"], c["pred"], c["gold"], c["ov_r"])} for t, c in rows.items()}


def evaluate(model: ClinicalNER | NeuralNER, docs: list[ChiaDoc], *, flattened: bool = True) -> dict[str, Any]:
    """Score ``model`` on ``docs`` against flattened gold (what a BIO tagger can reach) or all gold."""
    gold = [flatten(d.spans) if flattened else d.spans for d in docs]
    pred = [predict_doc(model, d) for d in docs]
    return score(gold, pred)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train on the fixed 80% split, evaluate on the 20% held-out trials, write model + card."""
    from theralab.models.registry import ModelCard, save_card

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chia", type=Path, default=Path("../shared/data/trials/chia"))
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "weights" / "chia-crf")
    ap.add_argument("--max-iterations", type=int, default=DEFAULT_PARAMS["max_iterations"])
    ap.add_argument("--c1", type=float, default=DEFAULT_PARAMS["c1"])
    ap.add_argument("--c2", type=float, default=DEFAULT_PARAMS["c2"])
    ap.add_argument("--minfreq", type=float, default=DEFAULT_PARAMS["feature.minfreq"],
                    help="drop features seen fewer times (smaller model)")
    ap.add_argument("--clusters", action="store_true", help="add distributional word-cluster features")
    ap.add_argument("--no-gazetteer", action="store_true", help="train without the dictionary feature")
    args = ap.parse_args(argv)
    docs = load_chia(args.chia)
    train, test = split_trials(docs, 0.2, SEED)
    params = {"max_iterations": args.max_iterations, "c1": args.c1, "c2": args.c2, "feature.minfreq": args.minfreq}
    t0 = time.time()
    train_crf(train, args.out, params, gazetteer=not args.no_gazetteer, clusters=args.clusters)
    seconds = time.time() - t0
    files = [MODEL_FILE] + ([GAZETTEER_FILE] if not args.no_gazetteer else []) + \
        ([CLUSTERS_FILE] if args.clusters else [])
    save_card(args.out, ModelCard(name="chia-crf", task="clinical-ner", weights=dict.fromkeys(files, "")))
    model = ClinicalNER(args.out)
    flat = evaluate(model, test, flattened=True)
    full = evaluate(model, test, flattened=False)
    card = ModelCard(
        name="chia-crf", task="clinical-ner", version="1",
        description="Linear-chain CRF (CRFsuite) tagging Chia entity types (BIO) in eligibility criteria and "
                    "clinical text. Trained on the Chia corpus (Kury et al., Sci Data 2020), CC BY 4.0.",
        training_data={**corpus_fingerprint(train), "split": f"80/20 by trial, seed {SEED}",
                       "test_trials": len({d.trial for d in test})},
        metrics={"heldout_flattened": {k: v for k, v in flat.items()},
                 "heldout_all_gold_overall": full["overall"], "train_seconds": round(seconds, 1)},
        seeds=[SEED], weights=dict.fromkeys(files, ""),
        retrain="python -m theralab.nlp.train --chia ../shared/data/trials/chia",
        params={**DEFAULT_PARAMS, **params, "gazetteer": not args.no_gazetteer,
                "clusters": args.clusters},
        licence="weights derived from Chia, CC BY 4.0: Kury et al., Sci Data 7:281 (2020), "
                "doi:10.1038/s41597-020-00620-0",
    )
    save_card(args.out, card)
    summary = {"train_docs": len(train), "test_docs": len(test), "seconds": round(seconds, 1),
               "overall_flattened": flat["overall"], "overall_all_gold": full["overall"]}
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
