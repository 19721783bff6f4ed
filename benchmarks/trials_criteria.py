"""Criteria parsing on held-out Chia trials: entity F1 (exact, overlap) per type, negation, coding.

Splits the 800 Chia trials 80/20 by trial (seed 13, the split the shipped model was trained on),
then on the 160 held-out trials measures, in the same run:

* **ours**: the shipped BiLSTM-CRF ensemble (``theralab/nlp/weights/chia-bilstm``), or a fresh one
  trained on the training split with ``--retrain`` (three seeds: about 25 minutes on one shared core);
* **our CRF** (``theralab/nlp/weights/chia-crf``), the previous model, scored in the same run;
* **dictionary baseline**: longest-match lookup of every training-set entity string (the classic
  gazetteer peer, measured here); Criteria2Query's published entity F1 0.795 (Yuan et al., JAMIA
  2019, on its own corpus) is printed as the anchor;
* entity P/R/F1 against the flattened gold (what a BIO tagger can reach) and against all gold
  entities (nested ones included);
* negation: ConText flags on the gold entities vs Chia's ``Has_negation`` links;
* criteria parsing: share of core entities mapped to a code and of measurements with a parsed
  comparator/value, over the held-out trials' full parse.

Usage::

    python benchmarks/trials_criteria.py                    # reads ../shared/data/trials/chia
    python benchmarks/trials_criteria.py --retrain --json out.json   # retrains the BiLSTM-CRF
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
    from theralab.trials.criteria import parse_criteria
    from theralab.trials.criteria_models import CORE_TYPES

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
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    import torch

    from theralab.nlp.chia import flatten, load_chia, split_trials
    from theralab.nlp.ner import load_ner
    from theralab.nlp.train import SEED, evaluate, predict_doc, score

    torch.set_num_threads(1)  # two shared cores: more threads spin-wait and run slower

    docs = load_chia(args.chia)
    train, test = split_trials(docs, 0.2, SEED)
    model_dir = args.model
    if args.retrain:
        from theralab.models.registry import ModelCard, save_card
        from theralab.nlp.neural_train import DEFAULT_SEEDS, O_BIAS, train_bilstm

        tmp = Path(tempfile.mkdtemp(prefix="chia-bilstm-"))
        t0 = time.perf_counter()
        train_bilstm(train, tmp, unlabeled=[d.text for d in docs], seeds=tuple(args.seeds or DEFAULT_SEEDS),
                     log=lambda m: print(m, file=sys.stderr))
        print(f"trained in {time.perf_counter() - t0:.0f} s -> {tmp}", file=sys.stderr)
        save_card(tmp, ModelCard(name="chia-bilstm-bench", task="clinical-ner", params={"o_bias": O_BIAS}))
        model_dir = str(tmp)
    model = load_ner(model_dir)
    crf = load_ner(args.crf)
    flat = evaluate(model, test, flattened=True)
    crf_flat = evaluate(crf, test, flattened=True)
    crf_full = evaluate(crf, test, flattened=False)
    full = evaluate(model, test, flattened=False)
    base = score([flatten(d.spans) for d in test], dictionary_baseline(train, test))
    preds = [predict_doc(model, d) for d in test]
    query_gold = [[s for s in flatten(d.spans) if s.type in QUERY_TYPES] for d in test]
    query = score(query_gold, [[s for s in p if s.type in QUERY_TYPES] for p in preds])["overall"]
    crf_query = score(query_gold, [[s for s in predict_doc(crf, d) if s.type in QUERY_TYPES] for d in test])["overall"]
    neg = negation_eval(test, model)
    parse = parse_eval(test, str(model.model_dir))
    print(
        f"Chia held-out: {len({d.trial for d in test})} trials, {len(test)} criteria blocks "
        f"(train {len({d.trial for d in train})} trials), split seed {SEED}\n"
    )
    print("| type | gold | BiLSTM-CRF exact P/R/F1 | BiLSTM-CRF overlap P/R/F1 | CRF exact F1 | CRF overlap F1 "
          "| dictionary overlap F1 |")
    print("|---|---:|---|---|---:|---:|---:|")
    for t in (*TYPES_SHOWN, "overall"):
        if t not in flat:
            continue
        e, o = flat[t]["exact"], flat[t]["overlap"]
        b = base.get(t, {}).get("overlap", {}).get("f1", 0.0)
        ce = crf_flat.get(t, {}).get("exact", {}).get("f1", 0.0)
        co = crf_flat.get(t, {}).get("overlap", {}).get("f1", 0.0)
        name = f"**{t}**" if t == "overall" else t
        print(
            f"| {name} | {e['gold']} | {e['precision']:.3f} / {e['recall']:.3f} / {e['f1']:.3f} | "
            f"{o['precision']:.3f} / {o['recall']:.3f} / {o['f1']:.3f} | {ce:.3f} | {co:.3f} | {b:.3f} |"
        )
    fo, fe = full["overall"]["overlap"], full["overall"]["exact"]
    print(
        f"\nagainst all gold (nested entities kept): BiLSTM-CRF exact F1 {fe['f1']:.3f}, overlap F1 {fo['f1']:.3f}; "
        f"CRF exact F1 {crf_full['overall']['exact']['f1']:.3f}, overlap F1 {crf_full['overall']['overlap']['f1']:.3f} "
        f"(gold {fo['gold']})"
    )
    print(
        f"query types only ({', '.join(QUERY_TYPES)}): exact F1 {query['exact']['f1']:.3f}, "
        f"overlap P/R/F1 {query['overlap']['precision']:.3f} / {query['overlap']['recall']:.3f} / "
        f"{query['overlap']['f1']:.3f}; CRF exact F1 {crf_query['exact']['f1']:.3f}, overlap F1 "
        f"{crf_query['overlap']['f1']:.3f}"
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
        "crf_flattened": crf_flat, "crf_all_gold_overall": crf_full["overall"],
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
