"""MOSES-style distribution metrics of the SMILES prior beside the published CharRNN / LatentGAN rows.

Validity, unique@k, novelty (canonical samples not in MOSES train, as MOSES computes it), IntDiv1
(1 - mean pairwise Tanimoto, Morgan r2 1024 bits), SNN/Test (mean nearest-neighbour Tanimoto to
test) and FCD/Test (fcd_torch, ChemNet). MOSES uses 30,000 samples and the whole 176k test set;
this script defaults to fewer of both (shared 2-core machine) and prints what it used.

    python benchmarks/generate_moses.py --n 2000 --test 5000
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEEL = HERE / "cache" / "molsets-0.3.1-py3-none-any.whl"
PUBLISHED = HERE.parent.parent / "shared" / "data" / "generative" / "moses_metrics_table.csv"


def _member(wheel: Path, name: str) -> list[str]:
    with zipfile.ZipFile(wheel) as zf, zf.open(f"moses/dataset/data/{name}") as raw:
        rows = csv.reader(io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="ascii"))
        col = next(rows).index("SMILES")
        return [r[col] for r in rows]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="samples (MOSES: 30000)")
    ap.add_argument("--test", type=int, default=5000, help="test molecules for FCD/SNN (MOSES: all 176k)")
    ap.add_argument("--prior", default=None, help="prior: registered name or directory (default: smiles-gru-prior)")
    ap.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (MOSES samples at 1)")
    ap.add_argument("--wheel", default=str(WHEEL))
    ap.add_argument("--no-fcd", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from rdkit import Chem, rdBase

    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec, tanimoto
    from theralab.discovery.generate import load_prior

    torch.set_num_threads(1)
    prior = load_prior(args.prior)
    smiles: list[str] = []
    while len(smiles) < args.n:
        batch, _ = prior.sample(min(500, args.n - len(smiles)), seed=len(smiles) + 11, temperature=args.temperature)
        smiles += batch
    with rdBase.BlockLogs():
        mols = [Chem.MolFromSmiles(s) if s else None for s in smiles]
    valid = [Chem.MolToSmiles(m) for m in mols if m is not None]
    train = set(_member(Path(args.wheel), "train.csv.gz"))
    uniq = set(valid)
    out = {"n": len(smiles), "validity": len(valid) / len(smiles),
           f"unique@{len(smiles)}": len(uniq) / max(len(valid), 1),
           "novelty": len(uniq - train) / max(len(uniq), 1)}
    fp = Fingerprinter(fingerprint_spec("morgan2", 1024))
    with rdBase.BlockLogs():
        gen_fp = fp.pack_many([Chem.MolFromSmiles(s) for s in sorted(uniq)])
        test = random.Random(0).sample(_member(Path(args.wheel), "test.csv.gz"), args.test)
        test_fp = fp.pack_many([Chem.MolFromSmiles(s) for s in test])
    sims = np.stack([tanimoto(q, gen_fp) for q in gen_fp[:1000]])
    out["intdiv1"] = float(1 - sims.mean())
    out["snn_test"] = float(np.mean([tanimoto(q, test_fp).max() for q in gen_fp]))
    if not args.no_fcd:
        from fcd_torch import FCD

        fcd = FCD(device="cpu", n_jobs=1, batch_size=256)
        out["fcd_test"] = float(fcd(gen=valid, ref=test))
    out["test_subset"] = args.test
    out["temperature"] = args.temperature
    out["prior"] = args.prior or "smiles-gru-prior"
    print(json.dumps(out, indent=2))
    if PUBLISHED.exists():
        with PUBLISHED.open() as fh:
            for row in csv.DictReader(fh):
                if row["Model"] in ("CharRNN", "LatentGAN"):
                    keys = ("Valid", "Unique@10k", "FCD_Test", "SNN_Test", "IntDiv", "Novelty")
                    print("published", row["Model"], {k: row[k] for k in keys})
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
