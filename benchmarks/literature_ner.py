"""Literature NER on the BC5CDR development set: Chemical/Disease P/R/F1, normalisation, throughput.

The shipped ``bc5cdr-minilm-bilstm`` was trained on the BC5CDR training set only (its epoch chosen
on 50 training abstracts), so the development set is held out. In the same run it measures:

* **dictionary floor**: longest-match lookup of every training mention string (what the issue's
  floor, 0.793 / 0.745 on the test set, measures); PubMedBERT's published 93.3 / 85.6 is the anchor;
* **ours, raw**: the network's spans; **ours, pipeline**: :func:`theralab.literature.ner.tag`
  (abbreviation propagation included), strict span match, with 95% bootstrap intervals (abstracts
  resampled);
* **normalisation**: MeSH accuracy on the gold dev mentions (mention text alone, and with the
  document's abbreviations), and on the predicted mentions whose span and type are right;
* **genes**: the Gene head on ChemProt dev sentences against the partial (relation-argument) labels;
* **throughput**: abstracts per second of the whole ``tag`` pipeline (encoder, both heads, abbreviations,
  normalisation, negation) with the threads given.

Usage::

    python benchmarks/literature_ner.py                  # all 500 development abstracts (~10 min, 1 thread)
    python benchmarks/literature_ner.py --limit 100 --json out.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "literature"
ANCHOR = {"Chemical": 0.933, "Disease": 0.856}  # PubMedBERT (Gu et al. 2021), BC5CDR test
FLOOR_TEST = {"Chemical": 0.793, "Disease": 0.745}  # the dictionary floor, test set
GOAL = {"Chemical": 0.90, "Disease": 0.82}
TYPES = ("Chemical", "Disease")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run every measurement and print a table (and JSON with ``--json``)."""
    sys.path.insert(0, str(ROOT / "src"))
    import torch

    from theralab.literature.ner import annotate, load_model
    from theralab.literature.ner.corpora import bc5cdr_documents, chemprot_documents
    from theralab.literature.ner.evaluate import score
    from theralab.literature.ner.train import gold_spans
    from theralab.literature.ner.vocab import gazetteer_of
    from theralab.literature.normalise import accuracy, load_normaliser
    from theralab.nlp.tokens import tokenize

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--limit", type=int, default=0, help="score the first N development abstracts only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", type=Path, help="model folder (default: the shipped one)")
    ap.add_argument("--cache", type=Path, help="keep/read encoder features here (then no throughput figure)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    bc5 = args.data / "bc5cdr"
    train = bc5cdr_documents(bc5 / "CDR_TrainingSet.PubTator.txt")
    dev = bc5cdr_documents(bc5 / "CDR_DevelopmentSet.PubTator.txt")
    if args.limit:
        dev = dev[: args.limit]
    gold = gold_spans(dev)
    out: dict[str, Any] = {"split": f"BC5CDR development set, {len(dev)} abstracts (held out)"}

    gaz = gazetteer_of(train)
    floor = []
    for d in dev:
        toks = tokenize(d.text)
        tags = gaz.tag(toks)
        spans, cur = [], None
        for t, g in zip(toks, tags, strict=True):
            if g.startswith("B-"):
                cur = [t.start, t.end, g[2:]]
                spans.append(cur)
            elif g.startswith("I-") and cur:
                cur[1] = t.end
            else:
                cur = None
        floor.append([tuple(s) for s in spans])
    out["dictionary"] = score(gold, floor, TYPES, bootstrap=0)

    model = load_model(str(args.model) if args.model else None)
    model.cache = args.cache
    cached = args.cache is not None
    docs = [copy.copy(d) for d in dev]
    for d in docs:
        d.mentions = []
    t0, c0 = time.time(), time.process_time()
    raw = model.predict(docs)  # what tag() runs, split in two so the network's own figures come from the same pass
    for d, spans in zip(docs, raw, strict=True):
        annotate(d, spans)
    seconds, cpu = time.time() - t0, time.process_time() - c0
    out["throughput"] = {"abstracts": len(docs), "seconds": round(seconds, 1),
                         "abstracts_per_second": round(len(docs) / seconds, 2), "threads": args.threads,
                         "cpu_seconds": round(cpu, 1), "abstracts_per_cpu_second": round(len(docs) / cpu, 2),
                         "encoder_features_from_cache": cached}
    pred = [[(m.start, m.end, m.type) for m in d.mentions] for d in docs]
    out["pipeline"] = score(gold, pred, TYPES, bootstrap=1000)
    out["raw"] = score(gold, [[s[:3] for s in p if s[2] != "Gene"] for p in raw], TYPES, bootstrap=0)

    norm = load_normaliser()
    out["normalisation_gold_mentions"] = accuracy(dev, norm)
    e2e: dict[str, dict[str, float]] = {}
    for t in TYPES:
        n = right = 0
        for g, d in zip(dev, docs, strict=True):
            ids = {(m.start, m.end): m.identifier for m in g.mentions if m.type == t and m.identifier}
            for m in d.mentions:
                if m.type == t and (m.start, m.end) in ids:
                    n += 1
                    right += m.identifier == ids[(m.start, m.end)]
        e2e[t] = {"mentions": n, "accuracy": round(right / max(n, 1), 4)}
    out["normalisation_predicted_mentions"] = e2e
    out["negated_share"] = round(sum(m.negated for d in docs for m in d.mentions)
                                 / max(1, sum(len(d.mentions) for d in docs)), 4)

    cp = args.data / "chemprot" / "dev.jsonl"
    if cp.is_file():
        chems = frozenset(m.text.lower() for d in train for m in d.mentions if m.type == "Chemical")
        genes = chemprot_documents(cp, chems)
        if args.limit:
            genes = genes[: args.limit]
        gpred = model.predict(genes, heads=("gene",))
        out["chemprot_dev_gene_partial"] = score(gold_spans(genes), [[s[:3] for s in p] for p in gpred], ("Gene",),
                                                 bootstrap=0)
    _print(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


def _print(out: dict[str, Any]) -> None:
    print(f"# Literature NER, {out['split']}\n")
    print("| type | system | P | R | F1 | F1 95% CI | ratio to PubMedBERT |")
    print("|---|---|---|---|---|---|---|")
    for t in TYPES:
        for name, key in (("dictionary (training mentions)", "dictionary"), ("ours, network only", "raw"),
                          ("ours, tag() pipeline", "pipeline")):
            r = out[key][t]
            ci = r.get("f1_ci95")
            ci_s = f"{ci[0]:.3f}-{ci[1]:.3f}" if ci else ""
            print(f"| {t} | {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {ci_s} | "
                  f"{r['f1'] / ANCHOR[t]:.2f} |")
    print(f"\nGoal: Chemical >= {GOAL['Chemical']}, Disease >= {GOAL['Disease']}; issue floor (test set): "
          f"{FLOOR_TEST}; PubMedBERT (published, test): {ANCHOR}")
    print("\nNormalisation (MeSH accuracy):", json.dumps(out["normalisation_gold_mentions"]),
          "| on correctly found mentions:", json.dumps(out["normalisation_predicted_mentions"]))
    if "chemprot_dev_gene_partial" in out:
        g = out["chemprot_dev_gene_partial"]["Gene"]
        print(f"Gene (ChemProt dev, partial labels): P {g['precision']:.3f} R {g['recall']:.3f} F1 {g['f1']:.3f}")
    print("Negated share of mentions:", out["negated_share"])
    th = out["throughput"]
    how = "encoder features read from --cache: not a throughput figure" if th["encoder_features_from_cache"] else \
        "encoder included"
    print(f"Throughput: {th['abstracts_per_second']} abstracts/s wall-clock ({th['abstracts']} in {th['seconds']} s, "
          f"{th['threads']} thread(s), {how}); {th['abstracts_per_cpu_second']} abstracts per CPU-second")


if __name__ == "__main__":
    main()
