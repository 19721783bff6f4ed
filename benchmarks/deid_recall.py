"""Safe Harbor identifier recall of ``theralab.privacy.deid`` on two corpora.

Ours (text rules + the names held in the patient's own record) against the anchor "text rules only"
(what a de-identifier without access to the record can do), measured in the same run on:

* tests/data/privacy/annotated_notes.jsonl (20 notes written and annotated by hand for this project);
* the Synthea DocumentReference notes of ../shared/data/trials/synthea_bulk_10pt (identifiers taken
  from each patient's structured record).

Example::

    PYTHONPATH=src python benchmarks/deid_recall.py --synthea ../shared/data/trials/synthea_bulk_10pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

from theralab.privacy.deid_eval import annotated_recall, synthea_recall

ROOT = Path(__file__).resolve().parents[1]


def _fmt(r: dict) -> str:
    def one(x: dict) -> str:
        return f"{x['recall']:.3f} (n={x['n']})" if x["n"] else "n/a"

    return f"structured {one(r['structured'])}   names {one(r['names'])}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=Path, default=ROOT / "tests/data/privacy/annotated_notes.jsonl")
    parser.add_argument("--synthea", type=Path, default=ROOT.parent / "shared/data/trials/synthea_bulk_10pt")
    parser.add_argument("--limit", type=int, default=None, help="first N Synthea notes only")
    args = parser.parse_args()
    for label, use in (("ours (rules + record names)", True), ("anchor (text rules only)", False)):
        print(f"annotated notes  {label:30s} {_fmt(annotated_recall(args.notes, use_record_names=use))}")
    if (args.synthea / "DocumentReference.000.ndjson").is_file():
        for label, use in (("ours (rules + record names)", True), ("anchor (text rules only)", False)):
            r = synthea_recall(args.synthea, use_record_names=use, limit=args.limit)
            print(f"synthea {r['notes']} notes {label:30s} {_fmt(r)}")
    else:
        print(f"Synthea notes not found under {args.synthea}")


if __name__ == "__main__":
    main()
