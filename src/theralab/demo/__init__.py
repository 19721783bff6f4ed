"""Demo data the project makes itself: seeded, reproducible, no downloads.

* A compound library: a few well-known approved drugs plus a combinatorial set built by joining
  drug-like scaffolds and substituents at attachment points with RDKit's ``molzip``.
* Synthetic patients from :mod:`theralab.ehr.synthetic.cohort` (when that package is installed).
* A ward (:mod:`theralab.demo.ward`): bedside devices on eight of them streaming vitals through the
  ingest path, one deteriorating into the high NEWS2 band with its alerts.
* Clinical extras (:mod:`theralab.demo.clinical`): allergies, PGx calls from a VCF for the ward
  patients, trials with parsed eligibility criteria, adverse-event reports screened for signals.
* The screening library and a finished screening run (:mod:`theralab.demo.science`).
* An ``admin`` account with a one-time password printed once (by ``theralab demo load``).

Why a demo that fills every page: a first visit should show each page doing its job on data that
looks like a ward's, not an empty table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from theralab.demo.compounds import KNOWN_DRUGS, SCAFFOLDS, SUBSTITUENTS, demo_library, write_demo_library

__all__ = ["KNOWN_DRUGS", "SCAFFOLDS", "SUBSTITUENTS", "demo_library", "load_demo", "write_demo_library"]


def load_demo(seed: int = 7, patients: int = 200) -> dict[str, Any]:
    """Load all demo data into the configured installation (idempotent) and report what was done."""
    from theralab.settings import get_settings

    settings = get_settings()
    settings.ensure_dirs()
    report: dict[str, Any] = {}
    lib = write_demo_library(Path(settings.data_dir) / "libraries" / "demo_compounds.csv", seed)
    report["compound_library"] = str(lib)
    if patients <= 0:
        report["patients"] = "skipped (--patients 0): so are the ward, allergies, PGx, trials and adverse events"
    else:
        report.update(_load_patients(Path(settings.data_dir), patients, seed))
    science = load_science(seed)
    if isinstance(science, dict):
        report.update(science)  # one line per part (screening library, screening run)
    else:
        report["science"] = science
    report["literature"] = _part("literature", load_literature)
    report["care_team"] = _part("care team", care_team)
    return report


def load_literature() -> str:
    """The literature sample (made-up abstracts through the real extraction) so the graph page has content."""
    from theralab.literature.sample import load_sample
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        counts = load_sample(session)
    return ", ".join(f"{v} {k}" for k, v in counts.items())


def care_team() -> str:
    """Care team ``demo-ward``: every demo patient, and every clinician and researcher account that exists
    now, so the demo's staff see the demo patients under the care-team check (one place for CLI and tests)."""
    from sqlalchemy import select

    from theralab.ehr.tables import PatientRow
    from theralab.privacy import careteam
    from theralab.privacy.tables import User
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        added = careteam.add_patients(session, "demo-ward", session.scalars(select(PatientRow.id)), by="demo")
        members = [u.username for u in session.scalars(select(User)) if u.role_set & careteam.STAFF]
        for name in members:
            careteam.add_member(session, "demo-ward", name, by="demo")
    return f"demo-ward: {added} patients added, members {', '.join(members) or 'none yet'}"


def _load_patients(data_dir: Path, patients: int, seed: int) -> dict[str, Any]:
    """The synthetic cohort, then the clinical parts that need it."""
    try:
        from theralab.ehr.synthetic.cohort import load_demo_patients
    except ImportError:
        return {"patients": "skipped: theralab.ehr.synthetic.cohort is not available"}
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        imported = load_demo_patients(session, n=patients, seed=seed)
    loaded = getattr(imported, "loaded", {}) or {}
    report: dict[str, Any] = {"patients": (f"{getattr(imported, 'patients', patients)} synthetic patients "
                                           f"({sum(loaded.values())} FHIR resources, seed {seed})")}
    report.update(load_clinical(data_dir / "demo", seed))
    return report


def _part(name: str, run: Callable[[], Any]) -> Any:
    """Run one part of the demo; a part that cannot run (missing model, bad state) says why, the rest go on."""
    from theralab.errors import TheralabError

    try:
        return run()
    except TheralabError as exc:
        return f"skipped {name}: {exc}"


def load_clinical(folder: Path, seed: int = 7) -> dict[str, Any]:
    """The ward, allergies, PGx calls, trials and adverse-event signals (after the patients are loaded)."""
    from theralab.demo import clinical
    from theralab.demo.ward import load_ward, ward_patients
    from theralab.runtime.db import session_scope

    report: dict[str, Any] = {}
    ward = _part("ward", load_ward)
    report["ward"] = ward if isinstance(ward, str) else (
        f"{ward['devices']} bedside devices, {ward['readings']} new readings "
        f"({ward['duplicates']} already stored), {ward['alerts']} alerts raised or updated")
    with session_scope() as session:
        beds = ward_patients(session)
        report["allergies"] = _part("allergies", lambda: f"{clinical.add_allergies(session, beds)} on record")
        report["medications"] = _part("medications", lambda: (
            f"{clinical.add_medications(session, beds)} prescriptions with a PGx guideline"))
    with session_scope() as session:
        pgx = _part("pgx", lambda: clinical.add_pgx_results(session, beds, folder))
    report["pgx"] = pgx if isinstance(pgx, str) else (
        f"{pgx.get('calls', 0)} gene calls for {pgx['samples']} ward patients from {pgx.get('vcf', 'no VCF')}")
    with session_scope() as session:
        added = _part("trials", lambda: clinical.add_trials(session))
    report["trials"] = added if isinstance(added, str) else (
        f"{len(clinical.TRIALS)} trials with parsed criteria ({len(added)} new)")
    with session_scope() as session:
        safety = _part("adverse events", lambda: clinical.add_safety_signals(session, folder, seed))
    report["adverse_events"] = safety if isinstance(safety, str) else (
        f"{safety['reports']} reports for {clinical.SAFETY_TRIAL} ({safety['csv']}); signals: {safety['signals']}")
    return report


def load_science(seed: int = 7) -> Any:
    """The screening library and a finished screening run (:mod:`theralab.demo.science`)."""
    from theralab.demo import science

    return _part("science", lambda: science.load(seed=seed))
