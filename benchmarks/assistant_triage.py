"""Triage benchmark on the Avey clinical vignettes (issue 28): ours vs the symptom-checker anchor.

Gold levels come from ``assistant_triage_gold.py`` (diagnosis -> level, frozen before scoring).
The engine reads each vignette as a patient would describe it: chief complaints, presentation,
own medical and social history, age and sex (never the diagnosis, the family history or the
list of absent findings). Anchor: 23 symptom checkers, Semigran et al. BMJ 2015: correct triage
57 % overall, emergent 80 %, non-emergent 55 %, self-care 33 %.

    python benchmarks/assistant_triage.py --split report
    python benchmarks/assistant_triage.py --split dev --show-errors
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from assistant_triage_gold import EMERGENCY, LEVELS, SELF_CARE, gold_level, split_of  # noqa: E402

from theralab.monitoring.assistant.triage import intake_from_text, triage  # noqa: E402

DEFAULT = (Path(__file__).resolve().parents[1].parent / "shared" / "data" / "monitoring" / "triage"
           / "avey_vignettes.jsonl")
ANCHOR = {"overall": 0.57, "emergency": 0.80, "soon": 0.55, "self_care": 0.33}


def demographics(text: str) -> tuple[int | None, str | None]:
    """Age in years (infants 0) and sex from e.g. '61 year old Male', '5 month old Female'."""
    age = None
    m = re.search(r"(\d+)\s*[- ](year|month|week|day)", text, re.IGNORECASE)
    if m:
        age = int(m.group(1)) if m.group(2).lower() == "year" else 0
    low = text.lower()
    sex = "female" if "female" in low or "woman" in low else ("male" if "male" in low or "man" in low else None)
    return age, sex


def run(path: Path, split: str, show_errors: bool = False) -> dict[str, object]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if split == "all" or split_of(r["presentation"]) == split]
    confusion: Counter[tuple[str, str]] = Counter()
    for r in rows:
        gold = gold_level(r["correct_diagnosis"])
        age, sex = demographics(r["demographics"])
        text = ". ".join(x for x in (r["chief_complaints"], r["presentation"]) if x and x != "-")
        history = ". ".join(x for x in (r["physical_history"], r.get("social_history", "")) if x and x != "-")
        result = triage(intake_from_text(text, details=history, age=age, sex=sex))
        confusion[(gold, result.level)] += 1
        if show_errors and result.level != gold and (gold == "emergency" or show_errors):
            print(f"  [{gold} -> {result.level}] {r['correct_diagnosis']}: {result.reasons[:2]}")
    n = sum(confusion.values())
    out: dict[str, object] = {"split": split, "n": n,
                              "overall": sum(confusion[(lv, lv)] for lv in LEVELS) / n}
    for lv in LEVELS:
        total = sum(confusion[(lv, p)] for p in LEVELS)
        out[lv] = (confusion[(lv, lv)] / total) if total else None
        out[f"n_{lv}"] = total
    n_em = out["n_emergency"]
    out["emergency_under_triage"] = (sum(confusion[("emergency", p)] for p in ("soon", "self_care")) / n_em
                                     if n_em else None)
    out["over_triage_to_emergency"] = sum(confusion[(g, "emergency")] for g in ("soon", "self_care")) / max(
        1, n - int(n_em))  # type: ignore[arg-type]
    out["confusion"] = {f"{g}->{p}": confusion[(g, p)] for g in LEVELS for p in LEVELS}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT, help="avey_vignettes.jsonl")
    parser.add_argument("--split", choices=("dev", "report", "all"), default="report",
                        help="dev = tuned on; report = held out (default)")
    parser.add_argument("--show-errors", action="store_true", help="print each mis-triaged vignette")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    res = run(args.data, args.split, args.show_errors)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"split={res['split']} n={res['n']}  (gold sets: {len(EMERGENCY)} emergency, {len(SELF_CARE)} self-care "
          "diagnoses, rest 'soon')")
    print(f"{'level':<12}{'n':>5}{'theralab':>10}{'anchor (Semigran 2015)':>25}")
    for lv in ("overall", *LEVELS):
        n = res["n"] if lv == "overall" else res[f"n_{lv}"]
        val = res[lv]
        print(f"{lv:<12}{n:>5}{(f'{val:.1%}' if val is not None else 'n/a'):>10}{ANCHOR[lv]:>25.0%}")
    print(f"emergency under-triage: {res['emergency_under_triage']:.1%} (goal 0 %)")
    print(f"non-emergencies sent to emergency (over-triage): {res['over_triage_to_emergency']:.1%}")
    print("confusion (gold->predicted):", res["confusion"])


if __name__ == "__main__":
    main()
