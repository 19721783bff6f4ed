"""Jinja2 environment shared by every page module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from theralab import __version__

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

DOMAINS = [
    {"key": "chem", "title": "Molecules", "href": "/chem", "built": True,
     "text": "Read, standardise, describe, filter and draw molecules; rule sets and structural alerts."},
    {"key": "admet", "title": "ADMET prediction", "href": "/admet", "built": False,
     "text": "Absorption, distribution, metabolism, excretion and toxicity with uncertainty."},
    {"key": "screening", "title": "Virtual screening", "href": "/screening", "built": False,
     "text": "Similarity and substructure search over large libraries; screening pipelines."},
    {"key": "dti", "title": "Drug-target affinity", "href": "/dti", "built": False,
     "text": "Rank molecules against a protein sequence (DeepDTA CNN, GIN graph model), with uncertainty."},
    {"key": "development", "title": "Drug development", "href": "/development", "built": False,
     "text": "PK simulation, NCA, dissolution and formulation, drug-drug interactions."},
    {"key": "ehr", "title": "Patients (EHR)", "href": "/ehr", "built": False,
     "text": "FHIR R4 ingestion, the patient model, terminologies."},
    {"key": "trials", "title": "Clinical trials", "href": "/trials", "built": False,
     "text": "Design calculator, meta-analysis, safety signals, criteria parsing and explainable patient matching."},
    {"key": "trials_outcome", "title": "Trial outcome", "href": "/trials/outcome", "built": False,
     "text": "A draft protocol's probability of success, its drivers, similar past trials and what-if edits."},
    {"key": "pgx", "title": "Pharmacogenomics", "href": "/pgx", "built": False,
     "text": "VCF to star alleles, phenotypes and CPIC dosing recommendations."},
    {"key": "precision", "title": "Precision medicine", "href": "/precision", "built": False,
     "text": "Tumour variants to therapies, polygenic risk panel, chest X-ray viewer with Grad-CAM."},
    {"key": "monitoring", "title": "Remote monitoring", "href": "/monitoring", "built": False,
     "text": "Vital-sign streams over HTTP and MQTT, NEWS2, alerts; the ward view and patient timelines."},
    {"key": "assistant", "title": "Health assistant", "href": "/assistant", "built": False, "text": "Patient chat."},
]


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render ``name`` with the common context (user, version, domains)."""
    ctx = {"request": request, "version": __version__, "domains": DOMAINS, "user": getattr(request.state, "user", None)}
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def mark_built(key: str) -> None:
    """A page module calls this on import so the home page shows its card as available."""
    for domain in DOMAINS:
        if domain["key"] == key:
            domain["built"] = True
