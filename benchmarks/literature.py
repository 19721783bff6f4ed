"""Literature mining figures (issue 25) on the BC5CDR development set and the ChemProt development set.

In one run, on data the shipped models did not train on (they train on ``CDR_TrainingSet`` and
ChemProt ``train.jsonl`` only; thresholds and regularisation were tuned on splits of those):

* **NER** (when the project's tagger ``theralab.literature.ner.tag`` is installed): mention-level
  precision/recall/F1 per type (Chemical, Disease), exact span and type, beside the published
  PubMedBERT 93.3 / 85.6 and the dictionary floors measured on the test set (0.793 / 0.745);
* **CID with gold entities**: document-level F1 of the shipped classifier, and the co-occurrence
  floor (every chemical with every disease of an abstract) in the same run; DocuNet ~0.76 published;
* **CID end to end**: the same classifier on the tagger's mentions and identifiers (when the tagger
  is installed);
* **ChemProt**: micro-F1 over CPR:3,4,5,6,9 on dev, beside PubMedBERT's 77.2 (BLURB). Caveat printed
  with it: this copy holds related pairs only (no "false" class), so ours is relation *typing*;
* **throughput**: abstracts per second for read + tag + relations on this machine (2 shared cores,
  one thread each for torch and LightGBM).

Usage::

    python benchmarks/literature.py                    # shipped models
    python benchmarks/literature.py --retrain          # retrain CID and ChemProt from the training files first
    python benchmarks/literature.py --json out.json    # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DATA = ROOT.parent / "shared" / "data" / "literature"
PUBLISHED = {"ner_chemical_pubmedbert": 0.933, "ner_disease_pubmedbert": 0.856, "cid_docunet": 0.76,
             "chemprot_pubmedbert": 0.772}
FLOORS_TEST = {"ner_chemical_dictionary": 0.793, "ner_disease_dictionary": 0.745, "cid_cooccurrence": 0.329}


def ner_scores(gold_docs: list[Any], pred_docs: list[Any]) -> dict[str, dict[str, float]]:
    """Exact-span, exact-type mention P/R/F1 per type."""
    out = {}
    for etype in ("Chemical", "Disease"):
        gold = {(d.id, m.start, m.end) for d in gold_docs for m in d.mentions if m.type == etype}
        pred = {(d.id, m.start, m.end) for d in pred_docs for m in d.mentions if m.type == etype}
        tp = len(gold & pred)
        p, r = (tp / len(pred) if pred else 0.0), (tp / len(gold) if gold else 0.0)
        out[etype] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
                      "gold": len(gold), "predicted": len(pred)}
    return out


def dictionary_tagger(train_docs: list[Any]) -> Any:
    """The dictionary floor (measured here, a peer, not shipped): longest match of every training mention string.

    Each string keeps its most frequent type and identifier in the training set; matching is
    case-insensitive on word boundaries.
    """
    import re
    from collections import Counter, defaultdict

    from theralab.literature.documents import Mention

    seen: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for d in train_docs:
        for m in d.mentions:
            if m.identifier and len(m.text) > 1:
                seen[m.text.lower()][(m.type, m.identifier)] += 1
    names = {k: v.most_common(1)[0][0] for k, v in seen.items()}
    pattern = re.compile(r"(?<!\w)(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")(?!\w)",
                         re.I)

    def tag(docs: list[Any]) -> list[Any]:
        for doc in docs:
            doc.mentions = [Mention(m.start(), m.end(), m.group(0), *names[m.group(0).lower()], 1.0, False,
                                    "dictionary") for m in pattern.finditer(doc.text)]
        return docs

    return tag


def main(argv: list[str] | None = None) -> int:
    """Print every figure; return 0."""
    import copy

    import torch

    torch.set_num_threads(1)
    from theralab.literature.pipeline import tagger
    from theralab.literature.readers import read_path
    from theralab.literature.relations import extract
    from theralab.literature.relations.chemprot import ChemProtModel, micro_f1, read_chemprot
    from theralab.literature.relations.cid import CIDModel, cooccurrence, gold_triples, prf

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--retrain", action="store_true", help="retrain CID and ChemProt from the training files first")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    bc5, cp = args.data / "bc5cdr", args.data / "chemprot"
    if not (bc5 / "CDR_DevelopmentSet.PubTator.txt").exists():
        print(f"BC5CDR not found under {bc5}; nothing to measure")
        return 0
    fig: dict[str, Any] = {"split": "BC5CDR development set (500 abstracts); ChemProt dev.jsonl",
                           "published": PUBLISHED, "floors_test_set": FLOORS_TEST}
    if args.retrain:
        from theralab.literature.relations.train import train_chemprot, train_cid

        tmp = Path(tempfile.mkdtemp())
        train_cid(bc5, tmp / "cid")
        train_chemprot(cp, tmp / "chemprot")
        cid, chemprot = CIDModel.load(tmp / "cid"), ChemProtModel.load(tmp / "chemprot")
    else:
        cid, chemprot = CIDModel.load(), ChemProtModel.load()

    dev, _ = read_path(bc5 / "CDR_DevelopmentSet.PubTator.txt")
    truth = gold_triples(dev)
    pred = {(a, b, c) for a, b, c, p, _e in cid.score(dev) if p >= cid.threshold}
    fig["cid_gold_entities"] = prf(pred, truth)
    fig["cid_cooccurrence"] = prf(cooccurrence(dev), truth)
    print(f"CID (gold entities), dev: P {fig['cid_gold_entities']['precision']:.3f} "
          f"R {fig['cid_gold_entities']['recall']:.3f} F1 {fig['cid_gold_entities']['f1']:.3f} "
          f"| co-occurrence floor F1 {fig['cid_cooccurrence']['f1']:.3f} "
          f"(ratio {fig['cid_gold_entities']['f1'] / fig['cid_cooccurrence']['f1']:.2f}x) "
          f"| DocuNet published {PUBLISHED['cid_docunet']:.2f} (ours/published "
          f"{fig['cid_gold_entities']['f1'] / PUBLISHED['cid_docunet']:.2f})")

    train, _ = read_path(bc5 / "CDR_TrainingSet.PubTator.txt")
    dictionary = [copy.deepcopy(d) for d in dev]
    dictionary_tagger(train)(dictionary)
    fig["ner_dictionary"] = ner_scores(dev, dictionary)
    e2e = {(a, b, c) for a, b, c, p, _e in cid.score(dictionary) if p >= cid.threshold}
    fig["cid_end_to_end_dictionary"] = prf(e2e, truth)
    fig["cid_cooccurrence_dictionary"] = prf(cooccurrence(dictionary), truth)
    print("Dictionary floor (training-set mention strings, measured here): NER F1 "
          + ", ".join(f"{t} {s['f1']:.3f}" for t, s in fig["ner_dictionary"].items())
          + f"; CID on its mentions F1 {fig['cid_end_to_end_dictionary']['f1']:.3f} "
          f"(co-occurrence {fig['cid_cooccurrence_dictionary']['f1']:.3f})")

    tag = tagger()
    if tag is not None:
        tagged = [copy.deepcopy(d) for d in dev]
        for d in tagged:
            d.mentions, d.relations = [], []
        t0 = time.perf_counter()
        tag(tagged)
        fig["ner_seconds"] = time.perf_counter() - t0
        fig["ner"] = ner_scores(dev, tagged)
        for etype, s in fig["ner"].items():
            key = f"ner_{etype.lower()}_pubmedbert"
            print(f"NER {etype}, dev: P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f} "
                  f"| PubMedBERT {PUBLISHED[key]:.3f} (ratio {s['f1'] / PUBLISHED[key]:.2f})")
        e2e = {(a, b, c) for a, b, c, p, _e in cid.score(tagged) if p >= cid.threshold}
        fig["cid_end_to_end"] = prf(e2e, truth)
        fig["cid_cooccurrence_end_to_end"] = prf(cooccurrence(tagged), truth)
        print(f"CID end to end (tagger's mentions and identifiers), dev: F1 {fig['cid_end_to_end']['f1']:.3f} "
              f"(P {fig['cid_end_to_end']['precision']:.3f} R {fig['cid_end_to_end']['recall']:.3f}); "
              f"co-occurrence on the same mentions F1 {fig['cid_cooccurrence_end_to_end']['f1']:.3f}")
    else:
        print("NER and end-to-end CID: the tagger (theralab.literature.ner.tag) is not installed; not measured")

    if (cp / "dev.jsonl").exists():
        rows = read_chemprot(cp / "dev.jsonl", [])
        preds = [chemprot.predict(*r[:5])[0] for r in rows]
        fig["chemprot_micro_f1"] = micro_f1(preds, [r[5] for r in rows])
        fig["chemprot_pairs"] = len(rows)
        print(f"ChemProt micro-F1 (CPR:3,4,5,6,9), dev ({len(rows)} related pairs): {fig['chemprot_micro_f1']:.3f} "
              f"| PubMedBERT {PUBLISHED['chemprot_pubmedbert']:.3f} on BLURB (includes unrelated pairs; "
              f"this copy has none, so ours types known relations: not the same task)")

    # Throughput: read + tag (when installed) + relations, documents without annotations when tagging.
    raw = (bc5 / "CDR_DevelopmentSet.PubTator.txt").read_text()
    t0 = time.perf_counter()
    docs, _ = read_path(bc5 / "CDR_DevelopmentSet.PubTator.txt")
    if tag is not None:
        for d in docs:
            d.mentions = []
        tag(docs)
    extract(docs, cid=cid, chemprot=chemprot)
    seconds = time.perf_counter() - t0
    fig["throughput_abstracts_per_s"] = len(docs) / seconds
    fig["throughput_includes_tagger"] = tag is not None
    fig["throughput_chars"] = len(raw)
    print(f"Throughput: {fig['throughput_abstracts_per_s']:.1f} abstracts/s "
          f"({len(docs)} abstracts in {seconds:.1f} s; read{' + tag' if tag else ''} + relations; "
          f"{os.cpu_count()} shared cores, one thread)")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
