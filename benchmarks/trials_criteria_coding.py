"""Coding rate of criteria entities on Chia: the share of gold mentions that get a code, per type.

Chia (Kury et al., Sci Data 2020) annotates the eligibility criteria of 1,000 trials; every
Condition, Drug, Measurement and Procedure mention is looked up with
:func:`theralab.trials.criteria.codes.lookup` (the coder the criteria parser uses). A mention without a
code is "unknown" for every patient at matching time, so this rate bounds what matching can decide.

Honest split: trials are halved by a hash of their NCT id. The lexicon was extended (abbreviations,
drug classes) by reading the uncoded mentions of the ``dev`` half only (``--show-uncoded``); the
``test`` half is reported and was not read. Both halves are printed.

    python benchmarks/trials_criteria_coding.py                  # rates on dev and test halves
    python benchmarks/trials_criteria_coding.py --show-uncoded 40 # most frequent uncoded dev mentions
    python benchmarks/trials_criteria_coding.py --baseline-csv OLD.csv  # rates with an older lexicon
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHIA = ROOT.parent / "shared" / "data" / "trials" / "chia"
TYPES = {"Condition": "condition", "Drug": "drug", "Measurement": "measurement", "Procedure": "procedure"}


def half(nct: str) -> str:
    """``dev`` or ``test``, fixed by the NCT id (md5, so it never depends on file order)."""
    return "dev" if int(hashlib.md5(nct.encode()).hexdigest(), 16) % 2 == 0 else "test"


def mentions(chia: Path) -> list[tuple[str, str, str]]:
    """(half, Chia type, text) of every Condition/Drug/Measurement/Procedure mention."""
    out = []
    for f in sorted(chia.glob("*.ann")):
        nct = f.name.split("_")[0]
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.startswith("T"):
                continue
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            etype = parts[1].split(" ")[0]
            if etype in TYPES:
                out.append((half(nct), etype, parts[2]))
    return out


def rates(items: list[tuple[str, str, str]]) -> tuple[dict[tuple[str, str], tuple[int, int]], Counter]:
    """(half, type) -> (coded, total), and the uncoded dev mentions by frequency."""
    from theralab.trials.criteria.codes import lookup

    tally: dict[tuple[str, str], list[int]] = {}
    uncoded: Counter[tuple[str, str]] = Counter()
    cache: dict[tuple[str, str], bool] = {}
    for h, etype, text in items:
        key = (text.lower(), etype)
        if key not in cache:
            cache[key] = bool(lookup(text, TYPES[etype])[0])
        t = tally.setdefault((h, etype), [0, 0])
        t[0] += cache[key]
        t[1] += 1
        if not cache[key] and h == "dev":
            uncoded[(etype, re.sub(r"\s+", " ", text.lower()))] += 1
    return {k: (v[0], v[1]) for k, v in tally.items()}, uncoded


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chia", type=Path, default=CHIA, help="folder of Chia .ann/.txt files")
    ap.add_argument("--show-uncoded", type=int, default=0, help="print the N most frequent uncoded dev mentions")
    ap.add_argument("--baseline-csv", type=Path, default=None,
                    help="score with this criteria_codes.csv instead of the shipped one (e.g. from git show)")
    args = ap.parse_args(argv)
    if not args.chia.is_dir():
        print(f"Chia not found at {args.chia}", file=sys.stderr)
        return 1
    if args.baseline_csv is not None:
        import theralab.trials.criteria.codes as cc

        text = args.baseline_csv.read_text(encoding="utf-8")

        class _Res:  # stands in for importlib.resources.files(...) with the older table
            def joinpath(self, _name: str) -> _Res:
                return self

            def read_text(self, encoding: str = "utf-8") -> str:
                return text

        original = cc.resources.files
        cc.resources.files = lambda pkg: _Res() if pkg == "theralab.trials" else original(pkg)  # type: ignore
        cc.lexicon.cache_clear()
    items = mentions(args.chia)
    tally, uncoded = rates(items)
    print(f"{'type':<12} {'dev coded':>14} {'test coded':>14}")
    for etype in TYPES:
        cells = []
        for h in ("dev", "test"):
            c, n = tally.get((h, etype), (0, 0))
            cells.append(f"{c}/{n} {100 * c / max(1, n):5.1f}%")
        print(f"{etype:<12} {cells[0]:>14} {cells[1]:>14}")
    for h in ("dev", "test"):
        c = sum(v[0] for k, v in tally.items() if k[0] == h)
        n = sum(v[1] for k, v in tally.items() if k[0] == h)
        print(f"all ({h}): {c}/{n} = {100 * c / max(1, n):.1f}%")
    for (etype, text), k in uncoded.most_common(args.show_uncoded):
        print(f"  {k:4d}  {etype:<12} {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
