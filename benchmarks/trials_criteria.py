"""Criteria parsing on held-out Chia trials: entity F1 (exact, overlap) per type, negation, coding.

Scores trials a model has not seen, one of two ways:

* ``--heldout DIR``: annotated trials outside ``--chia`` (the 200 trials held out to judge the
  issue); the shipped ``chia-bilstm``, trained on all 800 Chia trials, is scored as it ships;
* otherwise one fold of the 5-fold split by trial of the 800 Chia trials (seed 13; ``--fold K``,
  fold 0 is the 80/20 split of every earlier figure), which needs a model that did not see that
  fold: ``--retrain`` trains the shipped recipe on the other four folds first (three seeds, about
  25 minutes on one shared core), or ``--model DIR`` names a fold model
  (``python -m theralab.nlp.neural.train --fold K --out DIR``). The shipped model's card holds the
  pooled 5-fold estimate (``metrics.cv``).

On those trials it measures, in the same run:

* **ours**: the BiLSTM-CRF ensemble;
* **our CRF** (``theralab/nlp/weights/chia-crf``, trained on fold 0's training trials), the previous
  model, scored in the same run when the trials are unseen by it (fold 0 or ``--heldout``);
* **dictionary baseline**: longest-match lookup of every training-set entity string (the classic
  gazetteer peer, measured here); Criteria2Query's published entity F1 0.795 (Yuan et al., JAMIA
  2019, on its own corpus) is printed as the anchor;
* entity P/R/F1 against the flattened gold (what a BIO tagger can reach) and against all gold
  entities (nested ones included);
* negation: ConText flags on the gold entities vs Chia's ``Has_negation`` links;
* criteria parsing: share of core entities mapped to a code and of measurements with a parsed
  comparator/value, over the held-out trials' full parse.

Usage::

    python benchmarks/trials_criteria.py --heldout DIR             # the shipped model on unseen trials
    python benchmarks/trials_criteria.py --retrain --json out.json   # fold 0: retrains the recipe first
    python benchmarks/trials_criteria.py --retrain --fold 3          # another fold of the 5-fold estimate
    python benchmarks/trials_criteria.py --model DIR --fold 2        # a fold model trained before
    python benchmarks/trials_criteria.py --retrain --seeds 13        # retrain one network only (~9 min)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "trials" / "chia"
ANCHOR_C2Q = 0.795
#: The OMOP-domain entity types plus Value and Temporal: what a criteria-to-query tool must find.
QUERY_TYPES = ("Condition", "Drug", "Procedure", "Measurement", "Observation", "Device", "Value", "Temporal")
TYPES_SHOWN = (
    "Condition",
    "Drug",
    "Procedure",
    "Measurement",
    "Value",
    "Temporal",
    "Observation",
    "Person",
    "Qualifier",
    "Multiplier",
    "Negation",
    "Device",
    "Mood",
    "Visit",
)


def dictionary_baseline(train: list, test: list) -> list[list]:
    """Longest-match tagging with the training entities' strings (most frequent type per string)."""
    from theralab.nlp.chia import Span, flatten
    from theralab.nlp.entities import bio_to_spans
    from theralab.nlp.gazetteer import Gazetteer
    from theralab.nlp.tokens import split_lines, tokenize

    gaz = Gazetteer.from_spans([(sp.text, sp.type) for d in train for sp in flatten(d.spans)])
    out = []
    for d in test:
        spans = []
        for offset, line in split_lines(d.text):
            toks = tokenize(line, offset)
            spans += [Span(t, s, e) for t, s, e, _i, _j in bio_to_spans(toks, gaz.tag(toks))]
        out.append(spans)
    return out


def _f1(kinds: dict[str, Any], kind: str) -> str:
    """The ``exact`` or ``overlap`` F1 of one result row as printed, or ``n/a`` where that model was not scored."""
    m = kinds.get(kind)
    return f"{m['f1']:.3f}" if m else "n/a"


def refuse_seen_fold(model: Any, fold: int) -> None:
    """Stop when ``model`` was trained on the trials of ``fold`` (its card records which it held out).

    Models from before the k-fold cards record no fold: they were trained with fold 0 held out.
    """
    data = getattr(getattr(model, "card", None), "training_data", None) or {}
    held = data.get("fold", 0)
    if held != fold:
        seen = "every Chia trial" if held is None else f"the trials of fold {fold} (it holds out fold {held})"
        sys.exit(
            f"{model.model_dir.name} was trained on {seen}: scoring it on fold {fold} would report training "
            "accuracy. Use --retrain (trains the same recipe on the other folds), --model DIR of a model from "
            "`python -m theralab.nlp.neural.train --fold K --out DIR`, or --heldout DIR with unseen trials."
        )


def negation_eval(test: list, model: Any) -> dict[str, float]:
    """ConText on gold entity spans (with the model's Negation entities as extra triggers) vs Chia links."""
    from theralab.nlp.context import apply_context
    from theralab.nlp.entities import Entity

    tp = fp = fn = 0
    for d in test:
        core = [sp for sp in d.spans if sp.type not in ("Negation", "Value", "Temporal", "Qualifier", "Multiplier")]
        ents = [Entity(d.text[sp.start : sp.end], sp.type, sp.start, sp.end) for sp in core]
        negs = [e for e in model.predict(d.text) if e.type == "Negation"]
        apply_context(d.text, ents + negs)
        for e in ents:
            gold = (e.start, e.end) in d.negated
            tp += e.negated and gold
            fp += e.negated and not gold
            fn += gold and not e.negated
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "gold_negated": tp + fn,
    }


def parse_eval(test: list, model_dir: str) -> dict[str, Any]:
    """Parse each held-out trial's criteria and count coded entities and parsed measurement values."""
    from theralab.trials.criteria.parse import parse_criteria
    from theralab.trials.criteria.schemas import CORE_TYPES

    trials = sorted({d.trial for d in test})
    by_trial: dict[str, dict[str, str]] = {}
    for d in test:
        by_trial.setdefault(d.trial, {})[d.kind] = d.text
    core = mapped = meas = meas_val = crits = 0
    t0 = time.perf_counter()
    for nct in trials:
        parts = [f"{k.title()} Criteria:\n{by_trial[nct][k]}" for k in ("inclusion", "exclusion") if k in by_trial[nct]]
        parsed = parse_criteria("\n\n".join(parts), trial_id=nct, model=model_dir)
        crits += len(parsed.criteria)
        for c in parsed.criteria:
            for e in c.entities:
                if e.type in CORE_TYPES:
                    core += 1
                    mapped += bool(e.codes)
                if e.type == "measurement":
                    meas += 1
                    meas_val += e.constraint is not None
    seconds = time.perf_counter() - t0
    return {
        "trials": len(trials),
        "criteria": crits,
        "core_entities": core,
        "coded_share": round(mapped / core, 4),
        "measurements": meas,
        "measurement_with_value_share": round(meas_val / max(meas, 1), 4),
        "seconds_per_trial": round(seconds / len(trials), 4),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chia", type=Path, default=DATA)
    ap.add_argument("--model", default="chia-bilstm", help="shipped model name or model directory")
    ap.add_argument("--crf", default="chia-crf", help="the CRF peer: shipped model name or directory")
    ap.add_argument("--retrain", action="store_true",
                    help="train a fresh BiLSTM-CRF on the training split first (the CRF is the shipped one)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="with --retrain: ensemble seeds")
    ap.add_argument("--fold", type=int, default=0, help="the held-out fold of the 5-fold split (0: the 80/20 split)")
    ap.add_argument("--heldout", type=Path, default=None,
                    help="score annotated trials in this folder instead of a fold (none may be in --chia)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    import torch

    from theralab.nlp.chia import flatten, load_chia, trial_fold
    from theralab.nlp.ner import load_ner
    from theralab.nlp.train import SEED, evaluate, predict_doc, score

    torch.set_num_threads(1)  # two shared cores: more threads spin-wait and run slower

    docs = load_chia(args.chia)
    if args.heldout is not None:
        train, test = docs, load_chia(args.heldout)
        seen = {d.trial for d in docs} & {d.trial for d in test}
        if seen:
            sys.exit(f"{len(seen)} trials of {args.heldout} are also in {args.chia} (e.g. {min(seen)}): "
                     "the models were trained on them; give trials outside the Chia folder")
    else:
        train, test = trial_fold(docs, args.fold, 5, SEED)
    model_dir = args.model
    if args.retrain:
        from theralab.models.registry import ModelCard, save_card
        from theralab.nlp.neural.train import DEFAULT_SEEDS, O_BIAS, train_bilstm

        tmp = Path(tempfile.mkdtemp(prefix="chia-bilstm-"))
        t0 = time.perf_counter()
        from theralab.nlp.pubtator import pubtator_docs

        # the shipped recipe: BC5CDR abstracts feed the word vectors and the auxiliary Disease/Chemical head
        abstracts = pubtator_docs(ROOT.parent / "shared" / "data" / "literature" / "bc5cdr")
        train_bilstm(train, tmp, abstracts=abstracts,
                     seeds=tuple(args.seeds or DEFAULT_SEEDS), log=lambda m: print(m, file=sys.stderr))
        print(f"trained in {time.perf_counter() - t0:.0f} s -> {tmp}", file=sys.stderr)
        save_card(tmp, ModelCard(name="chia-bilstm-bench", task="clinical-ner", params={"o_bias": O_BIAS},
                                 training_data={"fold": None if args.heldout else args.fold, "folds": 5}))
        model_dir = str(tmp)
    model = load_ner(model_dir)
    if args.heldout is None:
        refuse_seen_fold(model, args.fold)
    # the CRF was trained on fold 0's training trials: scored only where these trials are unseen by it
    crf = load_ner(args.crf) if args.heldout is not None or args.fold == 0 else None
    flat = evaluate(model, test, flattened=True)
    crf_flat = evaluate(crf, test, flattened=True) if crf else {}
    crf_full = evaluate(crf, test, flattened=False) if crf else {}
    full = evaluate(model, test, flattened=False)
    base = score([flatten(d.spans) for d in test], dictionary_baseline(train, test))
    preds = [predict_doc(model, d) for d in test]
    query_gold = [[s for s in flatten(d.spans) if s.type in QUERY_TYPES] for d in test]
    query = score(query_gold, [[s for s in p if s.type in QUERY_TYPES] for p in preds])["overall"]
    crf_query = (
        score(query_gold, [[s for s in predict_doc(crf, d) if s.type in QUERY_TYPES] for d in test])["overall"]
        if crf
        else {}
    )
    neg = negation_eval(test, model)
    parse = parse_eval(test, str(model.model_dir))
    print(
        f"Held-out: {len({d.trial for d in test})} trials, {len(test)} criteria blocks "
        + (f"from {args.heldout}" if args.heldout else f"(fold {args.fold} of 5 by trial, seed {SEED})")
        + f"; dictionary from {len({d.trial for d in train})} training trials"
        + ("" if crf else "; CRF not scored (it was trained on some of these trials)")
        + "\n"
    )
    print("| type | gold | BiLSTM-CRF exact P/R/F1 | BiLSTM-CRF overlap P/R/F1 | CRF exact F1 | CRF overlap F1 "
          "| dictionary overlap F1 |")
    print("|---|---:|---|---|---:|---:|---:|")
    for t in (*TYPES_SHOWN, "overall"):
        if t not in flat:
            continue
        e, o = flat[t]["exact"], flat[t]["overlap"]
        b = base.get(t, {}).get("overlap", {}).get("f1", 0.0)
        ce, co = _f1(crf_flat.get(t, {}), "exact"), _f1(crf_flat.get(t, {}), "overlap")
        name = f"**{t}**" if t == "overall" else t
        print(
            f"| {name} | {e['gold']} | {e['precision']:.3f} / {e['recall']:.3f} / {e['f1']:.3f} | "
            f"{o['precision']:.3f} / {o['recall']:.3f} / {o['f1']:.3f} | {ce} | {co} | {b:.3f} |"
        )
    fo, fe = full["overall"]["overlap"], full["overall"]["exact"]
    crf_all = crf_full.get("overall", {})
    print(
        f"\nagainst all gold (nested entities kept): BiLSTM-CRF exact F1 {fe['f1']:.3f}, overlap F1 {fo['f1']:.3f}; "
        f"CRF exact F1 {_f1(crf_all, 'exact')}, overlap F1 {_f1(crf_all, 'overlap')} "
        f"(gold {fo['gold']})"
    )
    print(
        f"query types only ({', '.join(QUERY_TYPES)}): exact F1 {query['exact']['f1']:.3f}, "
        f"overlap P/R/F1 {query['overlap']['precision']:.3f} / {query['overlap']['recall']:.3f} / "
        f"{query['overlap']['f1']:.3f}; CRF exact F1 {_f1(crf_query, 'exact')}, overlap F1 "
        f"{_f1(crf_query, 'overlap')}"
    )
    print(
        f"dictionary baseline overall: exact F1 {base['overall']['exact']['f1']:.3f}, "
        f"overlap F1 {base['overall']['overlap']['f1']:.3f}"
    )
    print(
        f"anchor Criteria2Query entity F1 (published, own corpus): {ANCHOR_C2Q}; "
        f"goal overlap F1 >= 0.80: {'met' if flat['overall']['overlap']['f1'] >= 0.80 else 'NOT met'}"
    )
    print(
        f"negation (ConText vs Chia Has_negation on gold entities): P {neg['precision']:.3f} "
        f"R {neg['recall']:.3f} F1 {neg['f1']:.3f} (gold negated {neg['gold_negated']})"
    )
    print(f"parse: {parse}")
    result = {
        "flattened": flat,
        "crf_flattened": crf_flat, "crf_all_gold_overall": crf_full.get("overall"),
        "all_gold_overall": full["overall"], "query_types_overall": query, "crf_query_types_overall": crf_query,
        "dictionary": base,
        "negation": neg,
        "parse": parse,
        "anchor_criteria2query_f1": ANCHOR_C2Q,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
