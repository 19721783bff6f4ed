"""Molecules per second: ``theralab chem profile`` (``profile_file``) vs a plain RDKit loop, same run, 1 core.

Both sides read the same CSV, parse every SMILES, compute the same values (canonical SMILES,
InChIKey, the 18 descriptors, the five rule sets, PAINS A/B/C + Brenk + NIH alerts) and write a
CSV. The plain-RDKit side is the shortest honest script a chemist would write: ``csv`` module in,
RDKit calls, ``csv`` module out, no error handling beyond skipping unparseable SMILES. With
``--standardize`` both sides also run cleanup, largest fragment and uncharge (RDKit's
``rdMolStandardize``); ours additionally records what changed. The ratio printed is
``rdkit_mol_per_s / ours_mol_per_s`` (1.0 = no overhead; the goal is <= 1.5).

Usage::

    python benchmarks/chem_profile.py                       # bbbp.csv from ../shared/data
    python benchmarks/chem_profile.py --input lib.csv --repeats 3
    python benchmarks/chem_profile.py --copies 5            # bbbp repeated 5 times (10,195 rows)
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "discovery" / "moleculenet" / "bbbp.csv"

# same thresholds as theralab.chem.filters.RULE_SETS, written out the way a script would
RULES = {
    "lipinski": (
        1,
        [("mw", None, 500), ("clogp", None, 5), ("hbd_lipinski", None, 5), ("hba_lipinski", None, 10)],
    ),
    "veber": (0, [("rotatable_bonds", None, 10), ("tpsa", None, 140)]),
    "ghose": (0, [("mw", 160, 480), ("clogp", -0.4, 5.6), ("mr", 40, 130), ("atoms", 20, 70)]),
    "egan": (0, [("clogp", None, 5.88), ("tpsa", None, 131.6)]),
    "leadlike": (0, [("mw", 250, 350), ("clogp", None, 3.5), ("rotatable_bonds", None, 7)]),
}


def plain_rdkit(src: Path, out: Path, standardize: bool) -> int:
    """The peer: a straightforward RDKit script computing the same table."""
    import importlib.util

    from rdkit import Chem, RDConfig, rdBase
    from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams
    from rdkit.Chem.MolStandardize import rdMolStandardize

    spec = importlib.util.spec_from_file_location(
        "sascorer", os.path.join(RDConfig.RDContribDir, "SA_Score", "sascorer.py")
    )
    sascorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sascorer)
    params = FilterCatalogParams()
    for cat in ("PAINS_A", "PAINS_B", "PAINS_C", "BRENK", "NIH"):
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, cat))
    catalog = FilterCatalog(params)
    chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
    uncharger = rdMolStandardize.Uncharger(canonicalOrder=True)
    funcs = {
        "mw": Descriptors.MolWt,
        "exact_mw": Descriptors.ExactMolWt,
        "clogp": Crippen.MolLogP,
        "mr": Crippen.MolMR,
        "tpsa": rdMolDescriptors.CalcTPSA,
        "hbd": rdMolDescriptors.CalcNumHBD,
        "hba": rdMolDescriptors.CalcNumHBA,
        "hbd_lipinski": rdMolDescriptors.CalcNumLipinskiHBD,
        "hba_lipinski": rdMolDescriptors.CalcNumLipinskiHBA,
        "rotatable_bonds": rdMolDescriptors.CalcNumRotatableBonds,
        "rings": rdMolDescriptors.CalcNumRings,
        "aromatic_rings": rdMolDescriptors.CalcNumAromaticRings,
        "heavy_atoms": rdMolDescriptors.CalcNumHeavyAtoms,
        "atoms": rdMolDescriptors.CalcNumAtoms,
        "fraction_sp3": rdMolDescriptors.CalcFractionCSP3,
        "formal_charge": Chem.GetFormalCharge,
        "qed": QED.qed,
        "sa_score": sascorer.calculateScore,
    }
    n = 0
    with open(src, newline="") as fin, open(out, "w", newline="") as fout, rdBase.BlockLogs():
        reader = csv.DictReader(fin)
        writer = csv.writer(fout)
        header = ["smiles", "inchikey", *funcs]
        for rule in RULES:
            header += [f"{rule}_pass", f"{rule}_violations"]
        writer.writerow([*header, "alerts"])
        for row in reader:
            mol = Chem.MolFromSmiles(row["smiles"])
            if mol is None:
                continue
            if standardize:
                mol = uncharger.uncharge(chooser.choose(rdMolStandardize.Cleanup(mol)))
            values = {k: f(mol) for k, f in funcs.items()}
            rule_cells = []
            for max_bad, criteria in RULES.values():
                bad = sum(
                    (lo is not None and values[d] < lo) or (hi is not None and values[d] > hi) for d, lo, hi in criteria
                )
                rule_cells += [bad <= max_bad, bad]
            alerts = "; ".join(f"{m.GetProp('FilterSet')}:{m.GetDescription()}" for m in catalog.GetMatches(mol))
            writer.writerow([Chem.MolToSmiles(mol), Chem.MolToInchiKey(mol), *values.values(), *rule_cells, alerts])
            n += 1
    return n


def ours(src: Path, out: Path, standardize: bool) -> int:
    """theralab's path: exactly what ``theralab chem profile`` runs."""
    from theralab.chem.profile import profile_file

    return profile_file(src, out, standardize=standardize).valid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="CSV with a 'smiles' column")
    parser.add_argument("--copies", type=int, default=1, help="repeat the input rows N times")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N input rows (0: all)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side (alternating); median kept")
    parser.add_argument("--modes", default="off,on", help="standardisation modes to run: off,on")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # 1 core
    if not args.input.is_file():
        print(f"input not found: {args.input}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "input.csv"
        lines = args.input.read_text().splitlines()
        if args.limit:
            lines = lines[: args.limit + 1]
        src.write_text("\n".join([lines[0]] + lines[1:] * args.copies) + "\n")
        n_rows = (len(lines) - 1) * args.copies
        # warm-up: load RDKit, build catalogues and standardisers, read the SA fragment table
        head = Path(tmp) / "head.csv"
        head.write_text("\n".join(lines[:50]) + "\n")
        ours(head, Path(tmp) / "w.csv", True)
        plain_rdkit(head, Path(tmp) / "w2.csv", True)
        print(f"input: {args.input} x{args.copies} ({n_rows} rows), 1 core, median of {args.repeats} runs")
        print(f"{'standardise':<12}{'theralab mol/s':>16}{'plain RDKit mol/s':>19}{'ratio':>8}")
        for mode in args.modes.split(","):
            std = mode.strip() == "on"
            t_ours, t_rdkit = [], []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                n_ours = ours(src, Path(tmp) / "ours.csv", std)
                t_ours.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                n_rdkit = plain_rdkit(src, Path(tmp) / "rdkit.csv", std)
                t_rdkit.append(time.perf_counter() - t0)
            if n_ours != n_rdkit:
                print(
                    f"warning: {n_ours} molecules profiled by theralab, {n_rdkit} by plain RDKit",
                    file=sys.stderr,
                )
            ours_rate = n_ours / statistics.median(t_ours)
            rdkit_rate = n_rdkit / statistics.median(t_rdkit)
            print(f"{mode:<12}{ours_rate:>16.1f}{rdkit_rate:>19.1f}{rdkit_rate / ours_rate:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
