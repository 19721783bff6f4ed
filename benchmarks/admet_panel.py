"""Throughput of theralab's ADMET panel against ADMET-AI's own ``ADMETModel.predict``, same run.

Both score the same drug-like molecules (default: the first N of MoleculeNet Lipophilicity, real
ChEMBL drug-like compounds) with the same checkpoints, physico-chemical properties and DrugBank
percentiles. Contenders are interleaved chunk by chunk and both wall and CPU time are reported,
so load drift on a shared machine hits all of them alike. CPU time includes child processes (the
panel forks one for its RDKit half). The load average is printed at the start and the end: wall
times under load say little. The script also checks that the outputs agree.

    .venv/bin/python benchmarks/admet_panel.py --n 2000

``--sizes 10,100,400,2000`` instead times warm calls of each size (both models loaded once, as in a
warm server; the median of ``--repeats`` calls, contenders interleaved), prints the load time of
each model once, and with ``--api`` the warm round trip of 10 molecules through the API
(``POST /v1/admet/predict`` on the in-process app, JSON and auth included).
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
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="CSV with a 'smiles' or 'Smiles_unify' column (for 10,000 distinct molecules: PharmaBench "
        "logd_reg_final_data.csv, 13,068 ChEMBL compounds; sizes above the file's length repeat it)",
    )
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
    parser.add_argument("--sizes", default="", help="comma-separated call sizes for the warm-call sweep")
    parser.add_argument("--repeats", type=int, default=3, help="calls per size in the sweep (median reported)")
    parser.add_argument("--api", action="store_true", help="with --sizes: also time 10 molecules through the API")
    args = parser.parse_args(argv)
    if args.sizes:
        return sweep(args)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    smiles = _smiles(args.data)[: args.n]
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


def sweep(args: argparse.Namespace) -> int:
    """Warm calls of each size: theralab's panel vs ADMET-AI's ADMETModel, both loaded once."""
    import contextlib
    import io
    import statistics

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    pool = _smiles(args.data)
    print(f"{len(pool)} molecules in {args.data.name}")
    print(f"warm-call sweep, sizes {sizes}, {args.repeats} calls each; cpus={os.cpu_count()}; load {_load()}")
    from admet_ai import ADMETModel

    from theralab.discovery.admet.panel import AdmetPanel

    quiet = io.StringIO()
    clock = [0.0, 0.0]
    panel = _timed(clock, AdmetPanel)
    print(f"load: theralab panel {clock[0]:.1f} s wall / {clock[1]:.1f} s CPU", end="; ")
    clock = [0.0, 0.0]
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        reference = _timed(clock, ADMETModel)
    print(f"ADMET-AI {clock[0]:.1f} s wall / {clock[1]:.1f} s CPU")
    panel.predict_smiles(pool[:4])  # first-call set-up on both sides (alert screens, Lightning imports)
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        reference.predict(pool[:4])
    print("| molecules | theralab wall ms | ADMET-AI wall ms | ratio (wall) | theralab CPU ms | ADMET-AI CPU ms "
          "| ratio (CPU) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        part = (pool * (n // len(pool) + 1))[:n]
        ours, ref = [], []
        for _ in range(args.repeats if n < 2000 else 1):
            c = [0.0, 0.0]
            _timed(c, panel.predict_smiles, part)
            ours.append(c)
            c = [0.0, 0.0]
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                _timed(c, reference.predict, part)
            ref.append(c)
        ow, oc = statistics.median(x[0] for x in ours), statistics.median(x[1] for x in ours)
        rw, rc = statistics.median(x[0] for x in ref), statistics.median(x[1] for x in ref)
        print(f"| {n:,} | {ow * 1e3:,.0f} | {rw * 1e3:,.0f} | {rw / ow:.1f}x | {oc * 1e3:,.0f} | {rc * 1e3:,.0f} "
              f"| {rc / oc:.1f}x |", flush=True)
    if args.api:
        api_latency(pool[:10], args.repeats)
    print(f"load average at the end: {_load()}")
    return 0


def api_latency(smiles: list[str], repeats: int) -> None:
    """Warm round trip of ``smiles`` through ``POST /v1/admet/predict`` on the in-process app."""
    import statistics
    import tempfile

    os.environ["THERALAB_DATA_DIR"] = tempfile.mkdtemp(prefix="tl-api-")
    os.environ["THERALAB_WARM_MODELS"] = "panel"
    from fastapi.testclient import TestClient

    from theralab.app import create_app
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope
    from theralab.settings import reset_settings

    reset_settings()
    with session_scope() as session:
        create_user(session, "bench", "password-bench", ["researcher"])
    app = create_app(with_web=False)
    with TestClient(app) as client:
        app.state.warm_thread.join()
        token = client.post("/v1/auth/token", data={"username": "bench", "password": "password-bench"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        times = []
        for _ in range(max(repeats, 5)):
            start = time.perf_counter()
            r = client.post("/v1/admet/predict", json={"smiles": smiles}, headers=headers)
            times.append(time.perf_counter() - start)
            assert r.status_code == 200, r.text
    print(f"API, {len(smiles)} molecules, warm server: median {statistics.median(times) * 1e3:.0f} ms, "
          f"max {max(times) * 1e3:.0f} ms over {len(times)} requests")


def _smiles(path: Path) -> list[str]:
    """The SMILES of a CSV: its 'smiles' column (MoleculeNet) or 'Smiles_unify' (PharmaBench)."""
    frame = pd.read_csv(path)
    column = "smiles" if "smiles" in frame.columns else "Smiles_unify"
    return frame[column].astype(str).tolist()


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
