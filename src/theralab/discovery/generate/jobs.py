"""``generate.run`` job kind: a whole run file as a resumable background job.

Why chunks of budget: the job runner marks a chunk done only once it has finished and resumes an
interrupted job by running the unmarked chunks. Chunk ``i`` runs :func:`execute_run` up to
``(i + 1) * chunk_budget`` scoring calls with ``resume=True``: it reloads every molecule scored so
far from ``results.history.csv`` (never re-scored), the RL agent / GAN from their checkpoints and
the GA from its best molecules, then writes the ranked table. A killed worker therefore loses at
most the step in flight, and the table after each chunk is the live top list.

Live progress goes to ``progress.jsonl`` (one JSON line per optimiser step: calls, best, top-10
mean, valid and unique rates, and a ``chunk`` line with the top-100's internal diversity), read by
:func:`read_progress` for the API and the web page.

Params: ``spec`` (a run file as a dict, validated by :func:`parse_run`), ``chunk_budget`` and
``output`` (the results table path, inside the job's folder).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from theralab.discovery.generate.schemas import RunConfig, parse_run

PROGRESS = "progress.jsonl"
STOP = "stopped.json"

#: A small, quick run (Graph GA from six drugs towards QED without sulfur) for demos and page checks.
DEMO_RUN: dict[str, Any] = {
    "run": {"optimizer": "ga", "budget": 60, "seed": 0, "top_k": 50,
            "start_smiles": ["CC(=O)Oc1ccccc1C(=O)O", "CN1CCCC1c1cccnc1", "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
                             "CCOC(=O)c1ccccc1", "CC(=O)Nc1ccc(O)cc1", "OC(=O)c1ccccc1O"]},
    "scoring": {"components": [{"name": "qed", "type": "qed"},
                               {"name": "no_sulfur", "type": "substructure", "smarts": "[#16]", "mode": "forbid"}]},
    "ga": {"population_size": 12, "offspring_size": 12},
}


def submit_run(spec: dict[str, Any], owner: str, chunk_budget: int = 250) -> str:
    """Record a queued ``generate.run`` job whose results go to its own folder; returns its id.

    The caller validates ``spec`` for its audience first (the API and the page use
    :func:`~theralab.discovery.generate.schemas.check_remote`); start it with
    ``runtime.jobs.start_in_background`` or ``run_job``. Demo: ``run_job(submit_run(DEMO_RUN, "res"))``.
    """
    from theralab.runtime.db import session_scope
    from theralab.runtime.jobs import create_job, job_dir
    from theralab.runtime.tables import Job

    cfg = parse_run(dict(spec), where="spec")
    job_id = create_job("generate.run", {}, owner=owner)
    params = {"spec": cfg.model_dump(mode="json"), "chunk_budget": int(chunk_budget),
              "output": str(job_dir(job_id) / "results.csv")}
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.params = params
    return job_id


def run_spec(params: dict[str, Any]) -> RunConfig:
    """The job's run file, validated."""
    return parse_run(dict(params["spec"]), where="params.spec")


def top_diversity(smiles: list[str]) -> float:
    """IntDiv1 (1 - mean pairwise Tanimoto, Morgan r2 2048 bits) of ``smiles``; 0 for fewer than 2."""
    from rdkit import Chem, DataStructs, rdBase

    from theralab.chem.fingerprints import morgan_bitvect

    with rdBase.BlockLogs():
        mols = [m for m in (Chem.MolFromSmiles(s) for s in smiles) if m is not None]
    if len(mols) < 2:
        return 0.0
    fps = [morgan_bitvect(m) for m in mols]
    sims = [DataStructs.BulkTanimotoSimilarity(fp, fps[i + 1:]) for i, fp in enumerate(fps[:-1])]
    flat = np.concatenate([np.asarray(s) for s in sims])
    return float(1.0 - flat.mean())


def read_progress(workdir: str | Path, limit: int = 5000) -> list[dict[str, Any]]:
    """The job's progress rows (oldest first, at most the last ``limit``); [] before the first step."""
    path = Path(workdir) / PROGRESS
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines()[-limit:]:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written while we read
            continue
    return rows


class GenerateRunJob:
    """Plan = ceil(budget / chunk_budget) chunks, each extends the run to its share of the budget."""

    def plan(self, params: dict[str, Any], workdir: Path) -> list[dict[str, Any]]:
        cfg = run_spec(params)
        chunk = max(int(params.get("chunk_budget", 250)), 1)
        n = math.ceil(cfg.run.budget / chunk)
        return [{"budget": min((i + 1) * chunk, cfg.run.budget)} for i in range(n)]

    def run_chunk(self, params: dict[str, Any], index: int, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
        import fcntl

        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        # Chunks extend one search, so they must not run at once even when the executor has several
        # workers: each takes the run's lock, then extends the run to its own budget. Whatever order
        # they get the lock in, the search only ever grows (a chunk whose budget is already reached
        # returns at once), and no chunk waits on another's marker, so nothing can deadlock.
        with (workdir / "run.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._extend(params, index, spec, workdir)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _extend(self, params: dict[str, Any], index: int, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
        import torch

        from theralab.discovery.generate.run import execute_run

        torch.set_num_threads(1)
        stop_file = workdir / STOP
        if stop_file.exists():  # an earlier chunk stopped the search (mode collapse, stall)
            return {"budget": spec["budget"], "skipped": json.loads(stop_file.read_text())["stopped"]}
        cfg = run_spec(params)
        cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"budget": int(spec["budget"])})})
        out = Path(params["output"])
        log = (workdir / PROGRESS).open("a")

        def progress(row: dict[str, float]) -> None:
            clean = {k: (float(v) if isinstance(v, (int, float, np.floating, np.integer)) else v)
                     for k, v in row.items()}
            log.write(json.dumps({"type": "step", "chunk": index, **clean}) + "\n")
            log.flush()

        try:
            result = execute_run(cfg, out=out, resume=True, progress=progress)
        finally:
            log.close()
        top = result.table(100)
        stats = {"budget": int(spec["budget"]), "calls": result.oracle.calls, "stopped": result.stopped,
                 "best": float(top["score"].max()) if len(top) else 0.0, "top10": result.oracle.top_mean(10),
                 "diversity_top100": top_diversity([str(s) for s in top["smiles"]])}
        with (workdir / PROGRESS).open("a") as fh:
            fh.write(json.dumps({"type": "chunk", "chunk": index, **stats}) + "\n")
        if not (result.stopped == "budget" or result.oracle.exhausted):
            stop_file.write_text(json.dumps({"stopped": result.stopped, "chunk": index}))
        return stats

    def finalize(self, params: dict[str, Any], workdir: Path, stats: list[dict[str, Any]]) -> str:
        out = Path(params["output"])
        if not out.exists():  # every chunk was skipped: still leave an (empty) table
            import pandas as pd

            pd.DataFrame(columns=["rank", "smiles", "score"]).to_csv(out, index=False)
        return str(out)


def molecule_rows(table: Any, names: list[str]) -> list[dict[str, Any]]:
    """Ranked-table rows as plain dicts: rank, smiles, score, component desirabilities, raw values, error.

    NaN raw values become None and NaN desirabilities 0, so the rows serialise as JSON.
    """
    out = []
    for _, r in table.iterrows():
        raw = {}
        for n in names:
            if f"{n}_raw" in r:
                value = float(r[f"{n}_raw"])
                raw[n] = None if math.isnan(value) else value
        comps = {n: (0.0 if math.isnan(float(r[n])) else float(r[n])) for n in names if n in r}
        out.append({"rank": int(r["rank"]) if "rank" in r else None, "smiles": str(r["smiles"]),
                    "score": float(r["score"]), "components": comps, "raw": raw,
                    "error": str(r.get("error", "") or "") if str(r.get("error", "")) != "nan" else ""})
    return out


def live_view(job: dict[str, Any], top: int = 20) -> dict[str, Any]:
    """What a running or finished ``generate.run`` job shows: the score curve, chunks, top molecules.

    Read from the job's folder (``progress.jsonl`` and the ranked table the last chunk wrote), so
    the API and the web page show the same thing without touching the search.
    """
    import pandas as pd

    from theralab.runtime.jobs import job_dir

    rows = read_progress(job_dir(job["id"]))
    points = [{"chunk": int(r["chunk"]), "calls": float(r.get("calls", 0)), "best": float(r.get("best", 0)),
               "top10": float(r.get("top10", 0)), "valid": r.get("valid"), "unique": r.get("unique")}
              for r in rows if r.get("type") == "step"]
    chunks = [{"chunk": int(r["chunk"]), "calls": int(r["calls"]), "best": float(r["best"]),
               "top10": float(r["top10"]), "diversity_top100": float(r["diversity_top100"]),
               "stopped": str(r["stopped"])}
              for r in rows if r.get("type") == "chunk"]
    params = job.get("params") or {}
    spec = params.get("spec") or {}
    names = [c["name"] for c in (spec.get("scoring") or {}).get("components", [])]
    out = Path(str(params.get("output", "")))
    molecules: list[dict[str, Any]] = []
    if out.name and out.is_file():
        try:
            table = pd.read_csv(out).head(top)
        except (pd.errors.EmptyDataError, pd.errors.ParserError):  # being rewritten: shown next time
            table = pd.DataFrame()
        if len(table):
            molecules = molecule_rows(table, names)
    run = spec.get("run") or {}
    return {"job_id": job["id"], "status": job["status"], "optimizer": str(run.get("optimizer", "ga")),
            "budget": int(run.get("budget", 0)), "names": names, "points": points[-2000:], "chunks": chunks,
            "molecules": molecules}
