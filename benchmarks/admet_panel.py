"""Throughput of theralab's ADMET panel against ADMET-AI's own ``ADMETModel.predict``, same run.

Both score the same drug-like molecules (default: the first N of MoleculeNet Lipophilicity, real
ChEMBL drug-like compounds) with the same checkpoints, physico-chemical properties and DrugBank
percentiles. Contenders are interleaved chunk by chunk and both wall and CPU time are reported,
so load drift on a shared machine hits all of them alike. CPU time includes child processes (the
panel forks one for its RDKit half). The load average is printed at the start and the end: wall
times under load say little. The script also checks that the outputs agree.

    .venv/bin/python benchmarks/admet_panel.py --n 2000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "discovery" / "moleculenet" / "lipo.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="molecules to score")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CSV with a 'smiles' column")
    parser.add_argument("--skip-reference", action="store_true", help="time only theralab's panel")
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="also time the panel without the forward/RDKit overlap (one thread of work)",
    )
    parser.add_argument("--chunk", type=int, default=500, help="molecules per interleaved timing round")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch intra-op threads for both contenders (0: torch's default). On a loaded "
        "machine use 1: OpenMP threads that wait for a busy core spin and burn CPU",
    )
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    smiles = pd.read_csv(args.data)["smiles"].astype(str).tolist()[: args.n]
    print(
        f"{len(smiles)} molecules from {args.data.name}; torch threads={_threads()}; cpus={os.cpu_count()}; "
        f"load average {_load()}"
    )

    import contextlib
    import io

    from admet_ai import ADMETModel

    from theralab.discovery.admet.panel import AdmetPanel

    panel = AdmetPanel()
    sequential = AdmetPanel(overlap=False) if args.sequential else None
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        reference = None if args.skip_reference else ADMETModel()
    # Interleave the contenders chunk by chunk and record wall and CPU time: on a shared machine the
    # load drifts over minutes, and timing one contender after the other would measure the drift.
    clocks = {name: [0.0, 0.0] for name in ("theralab", "sequential", "admet-ai")}
    ours_parts, ref_parts = [], []
    for start in range(0, len(smiles), args.chunk):
        part = smiles[start : start + args.chunk]
        ours_parts.append(_timed(clocks["theralab"], panel.predict_smiles, part))
        if sequential is not None:
            _timed(clocks["sequential"], sequential.predict_smiles, part)
        if reference is not None:
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                ref_parts.append(_timed(clocks["admet-ai"], reference.predict, part))
    n = len(smiles)
    print(f"load average at the end: {_load()}")
    for name, (wall, cpu) in clocks.items():
        if wall:
            print(
                f"{name:>9}: wall {wall:7.1f} s = {n / wall:6.1f} mol/s | CPU {cpu:7.1f} s = {n / cpu:6.1f} mol/CPU-s"
            )
    if reference is None:
        return 0
    ref_wall, ref_cpu = clocks["admet-ai"]
    for name in ("theralab", "sequential"):
        wall, cpu = clocks[name]
        if wall:
            print(f"speed-up {name} vs ADMETModel.predict: wall {ref_wall / wall:.2f}x, CPU {ref_cpu / cpu:.2f}x")
    ours = pd.concat(ours_parts, ignore_index=True)
    ref = pd.concat(ref_parts)
    scored = ours[ours["error"] == ""].drop(columns=["smiles", "error"])
    scored.index = ref.index
    values = [c for c in ref.columns if not c.endswith("percentile")]
    diff = (scored[values] - ref[values]).abs().to_numpy()
    rel = diff / np.maximum(ref[values].abs().to_numpy(), 1.0)
    print(
        f"max |ours - ADMET-AI| over {len(values)} values x {len(ref)} molecules: {diff.max():.2e} "
        f"(relative {rel.max():.2e})"
    )
    pct = [c for c in ref.columns if c.endswith("percentile")]
    pdiff = (scored[pct] - ref[pct]).abs().to_numpy()
    print(f"max percentile difference: {pdiff.max():.2e}; cells > 1e-5: {(pdiff > 1e-5).sum()} of {pdiff.size}")
    return 0


def _timed(clock: list[float], func: Any, *args: Any) -> Any:
    wall, cpu = time.perf_counter(), _cpu()
    out = func(*args)
    clock[0] += time.perf_counter() - wall
    clock[1] += _cpu() - cpu
    return out


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the panel's forked RDKit worker)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    sys.exit(main())
