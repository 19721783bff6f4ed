"""The science part of the demo: a screening library and a finished screening run.

So the screening page and its report show something real on first visit, ``load()`` makes:

* the library ``demo-screening`` (registered: standardised, de-duplicated, indexed), built from
  what the project already has: the demo's approved drugs and seeded combinatorial compounds
  (:func:`theralab.demo.demo_library`) plus the first NCI compounds of the sample file RDKit ships
  (``rdkit/Data/NCI/first_5K.smi``, public-domain NCI open set), a few hundred molecules in all;
* one ``screen.run`` job, finished, owned by the shared example owner
  (:data:`theralab.runtime.jobs.SHARED_OWNER`, so every staff user sees it on the screening page
  and may open its results, and none may change it): Lipinski and structural-alert filters,
  similarity to two query actives (imatinib, paracetamol; both are in the library, so the report
  shows how query actives are marked), drug-likeness (QED) and a Butina-diverse top 20.

The run goes through the same job machinery as a user's run (plan, chunks, finalize), executed in
this process one chunk after another, so loading the demo never starts worker processes.
Idempotent: a registered library and a succeeded demo run are reused.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from theralab.runtime.executors import Executor

LIBRARY = "demo-screening"
RUN_NAME = "demo screen: kinase-inhibitor-like and analgesic-like hits"
NCI_MOLECULES = 300
QUERY_ACTIVES = {
    "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
}


class InProcessExecutor(Executor):
    """Runs the chunks one after another in this process (a demo run is a single small chunk)."""

    name = "in-process"

    def run_unordered(
        self, fn: Callable[..., Any], calls: Sequence[tuple[int, tuple[Any, ...]]], should_stop: Callable[[], bool]
    ) -> Iterator[tuple[int, Any]]:
        for index, args in calls:
            if should_stop():
                return
            yield index, fn(*args)


def nci_sample(n: int = NCI_MOLECULES) -> list[dict[str, str]]:
    """The first ``n`` molecules of the NCI sample RDKit ships (empty when this RDKit build lacks it)."""
    from rdkit import RDConfig

    path = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    if not path.is_file():
        return []
    rows = []
    with open(path) as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2:
                rows.append({"id": f"NCI-{parts[1]}", "smiles": parts[0], "source": "NCI open set (RDKit sample)"})
            if len(rows) >= n:
                break
    return rows


def library_rows(seed: int = 7) -> list[dict[str, str]]:
    """The demo screening library: the demo compounds (drugs, combinatorial, two broken rows) and NCI."""
    from theralab.demo.compounds import demo_library

    return demo_library(seed) + nci_sample()


def ensure_library(seed: int = 7) -> dict[str, Any]:
    """Register ``demo-screening`` unless it is registered already; return its manifest."""
    import json

    from theralab.discovery.screening import libraries_dir, register_library

    manifest = libraries_dir() / LIBRARY / "library.json"
    if manifest.is_file():
        return json.loads(manifest.read_text())
    source = libraries_dir() / "sources" / f"{LIBRARY}.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "smiles", "source"])
        writer.writeheader()
        writer.writerows(library_rows(seed))
    return register_library(LIBRARY, source, smiles_column="smiles", id_column="id", replace=True)


def run_config(owner: str) -> dict[str, Any]:
    """The demo run: the same shape the screening page's form submits."""
    from theralab.settings import get_settings

    out = Path(get_settings().data_dir) / "screens" / owner / LIBRARY
    return {
        "run": {"name": RUN_NAME, "library": LIBRARY, "chunk_size": 2000, "output_dir": str(out)},
        "filters": {"rules": ["lipinski"], "max_alerts": 0, "ranges": {"mw": [0, 500]}},
        "similarity": {"actives": list(QUERY_ACTIVES.values()), "fusion": "max"},
        "objectives": [
            {"column": "similarity", "goal": "maximize", "low": 0.1, "high": 0.7, "weight": 2.0},
            {"column": "qed", "goal": "maximize", "low": 0.2, "high": 0.9, "weight": 1.0},
        ],
        "diversity": {"method": "butina", "top_n": 20},
    }


def demo_run(owner: str) -> dict[str, Any] | None:
    """The owner's succeeded demo run, if there is one."""
    from theralab.runtime.jobs import list_jobs

    for job in list_jobs(owner=owner, limit=500):
        if job["kind"] == "screen.run" and job["status"] == "succeeded" \
                and (job.get("params") or {}).get("run", {}).get("name") == RUN_NAME:
            return job
    return None


def ensure_run(owner: str) -> dict[str, Any]:
    """A finished demo screening run owned by ``owner`` (reused when one succeeded before)."""
    from theralab.runtime.jobs import create_job, run_job

    job = demo_run(owner)
    if job is not None:
        return job
    job_id = create_job("screen.run", run_config(owner), owner=owner)
    return run_job(job_id, InProcessExecutor())


def load(seed: int = 7, owner: str | None = None) -> dict[str, str]:
    """Load the science demo (idempotent) into the configured installation; report what was done.

    ``owner`` owns the finished run; by default the shared example owner, so the run is on every
    staff user's screening page from the first visit (whoever logs in first).
    """
    from theralab.runtime.jobs import SHARED_OWNER

    owner = owner or SHARED_OWNER
    manifest = ensure_library(seed)
    job = ensure_run(owner)
    return {
        "screening_library": f"{LIBRARY} ({manifest['unique']} unique molecules, {manifest['invalid']} invalid rows)",
        "screening_run": f"job {job['id']} {job['status']}: /screening/runs/{job['id']}",
    }


__all__ = ["InProcessExecutor", "LIBRARY", "QUERY_ACTIVES", "RUN_NAME", "demo_run", "ensure_library", "ensure_run",
           "library_rows", "load", "nci_sample", "run_config"]
