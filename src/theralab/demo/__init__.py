"""Demo data the project makes itself: seeded, reproducible, no downloads.

* A compound library: a few well-known approved drugs plus a combinatorial set built by joining
  drug-like scaffolds and substituents at attachment points with RDKit's ``molzip``.
* Synthetic patients from :mod:`theralab.ehr.synthetic.cohort` (when that package is installed).
* A ward (:mod:`theralab.demo.ward`): bedside devices on eight of them streaming vitals through the
  ingest path, one deteriorating into the high NEWS2 band with its alerts.
* Clinical extras (:mod:`theralab.demo.clinical`): allergies, PGx calls from a VCF for the ward
  patients, trials with parsed eligibility criteria, adverse-event reports screened for signals.
* The screening library and a finished screening run (``theralab.demo_science``).
* An ``admin`` account with a one-time password printed once (by ``theralab demo load``).

Why a demo that fills every page: a first visit should show each page doing its job on data that
looks like a ward's, not an empty table.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

KNOWN_DRUGS: dict[str, str] = {
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "ibuprofen": "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "metformin": "CN(C)C(=N)N=C(N)N",
    "atenolol": "CC(C)NCC(O)COc1ccc(CC(N)=O)cc1",
    "omeprazole": "COc1ccc2[nH]c(nc2c1)S(=O)Cc1ncc(C)c(OC)c1C",
    "diazepam": "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21",
    "warfarin": "CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2oc1=O",
    "clopidogrel": "COC(=O)C(c1ccccc1Cl)N1CCc2sccc2C1",
    "simvastatin": "CCC(C)(C)C(=O)OC1CC(C)C=C2C=CC(C)C(CCC3CC(O)CC(=O)O3)C12",
    "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "sertraline": "CNC1CCC(c2ccc(Cl)c(Cl)c2)c2ccccc21",
    "ciprofloxacin": "OC(=O)c1cn(C2CC2)c2cc(N3CCNCC3)c(F)cc2c1=O",
    "losartan": "CCCCc1nc(Cl)c(CO)n1Cc1ccc(-c2ccccc2-c2nn[nH]n2)cc1",
    "tamoxifen": "CCC(=C(c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1",
}

SCAFFOLDS = [
    "c1ccc([*:1])cc1", "c1ccc2[nH]c([*:1])cc2c1", "c1cnc([*:1])nc1", "O=C(N[*:1])c1ccccc1",
    "c1ccc2c(c1)oc(=O)c([*:1])c2", "C1CCN([*:1])CC1", "c1csc([*:1])n1", "O=C1CCC([*:1])N1",
    "c1ccc(-c2ccc([*:1])cc2)cc1", "C1COCCN1C(=O)c1ccc([*:1])cc1",
]
SUBSTITUENTS = [
    "[*:1]C", "[*:1]Cl", "[*:1]F", "[*:1]OC", "[*:1]C(=O)O", "[*:1]N", "[*:1]C(F)(F)F", "[*:1]C#N",
    "[*:1]S(=O)(=O)N", "[*:1]CCN(C)C", "[*:1]c1ccncc1", "[*:1]OCC(O)CO", "[*:1]NC(=O)C", "[*:1]C1CC1",
    "[*:1]c1ccc(O)cc1", "[*:1]CC(=O)Nc1ccccc1",
]


def demo_library(seed: int = 7, extra: int = 120) -> list[dict[str, str]]:
    """The demo compound library: known drugs first, then ``extra`` seeded combinatorial compounds."""
    from rdkit import Chem

    rows = [{"id": name, "smiles": smi, "source": "approved drug"} for name, smi in KNOWN_DRUGS.items()]
    rng = random.Random(seed)
    pairs = [(s, r) for s in SCAFFOLDS for r in SUBSTITUENTS]
    rng.shuffle(pairs)
    seen: set[str] = set()
    for scaffold, sub in pairs:
        if len(rows) >= len(KNOWN_DRUGS) + extra:
            break
        joined = Chem.molzip(Chem.MolFromSmiles(scaffold), Chem.MolFromSmiles(sub))
        smiles = Chem.MolToSmiles(joined)
        if smiles in seen:
            continue
        seen.add(smiles)
        rows.append({"id": f"TL-{len(rows):05d}", "smiles": smiles, "source": "combinatorial (seeded)"})
    # a couple of deliberately broken rows, so the demo shows how bad input is reported
    rows.append({"id": "TL-BAD-1", "smiles": "C1CC(", "source": "broken on purpose"})
    rows.append({"id": "TL-BAD-2", "smiles": "not a molecule", "source": "broken on purpose"})
    return rows


def write_demo_library(path: Path, seed: int = 7) -> Path:
    """Write the demo library as CSV and return its path."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    rows = demo_library(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "smiles", "source"])
        writer.writeheader()
        writer.writerows(rows)
    return path


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
    return report


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
    """The screening library and a finished screening run, from ``theralab.demo_science``."""
    try:
        from theralab import demo_science
    except ImportError as exc:
        return (f"skipped: theralab.demo_science is not installed ({exc}); the screening pages start empty "
                "until it is")
    return _part("science", lambda: demo_science.load(seed=seed))
