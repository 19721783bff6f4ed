"""Jinja2 environment shared by every page module: the domain list (with who may use each), filters, ``render``.

The navigation and the home page are built from :data:`DOMAINS`; each domain carries the roles that
may use it (admin may use everything), so a patient is never offered a researcher's pages. Number,
quantity, interval and time formatting come from :mod:`theralab.web.format` as filters (``qty``,
``sig``, ``pct``, ``when``, ``interval``, ``show``), the one place a page formats a value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from theralab import __version__
from theralab.web import format as fmt

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
for _name in ("qty", "sig", "pct", "when", "interval", "show"):
    templates.env.filters[_name] = getattr(fmt, _name)
templates.env.filters["news2_level"] = fmt.level_of_news2
templates.env.filters["basename"] = lambda value: Path(str(value)).name if value else fmt.MISSING

STAFF = ("clinician", "researcher")

#: Navigation groups in the order the top bar shows them.
GROUPS = ["Discovery", "Development", "Trials", "Clinical"]

#: Every domain of the UI. ``roles``: who may use it (admin always may); ``pages``: its sub-pages in
#: the navigation menu, each with its own roles when narrower than the domain's.
DOMAINS = [
    {"key": "chem", "title": "Molecules", "href": "/chem", "built": True, "group": "Discovery", "roles": STAFF,
     "text": "Read, standardise, describe, filter and draw molecules; rule sets and structural alerts."},
    {"key": "admet", "title": "ADMET prediction", "href": "/admet", "built": False, "group": "Discovery",
     "roles": STAFF, "text": "Absorption, distribution, metabolism, excretion and toxicity with uncertainty."},
    {"key": "screening", "title": "Virtual screening", "href": "/screening", "built": False, "group": "Discovery",
     "roles": STAFF, "text": "Similarity and substructure search over large libraries; screening pipelines."},
    {"key": "dti", "title": "Drug-target affinity", "href": "/dti", "built": False, "group": "Discovery",
     "roles": STAFF,
     "text": "Rank molecules against a protein sequence (DeepDTA CNN, GIN graph model), with uncertainty."},
    {"key": "generate", "title": "Generative design", "href": "/generate", "built": False, "group": "Discovery",
     "roles": ("researcher",), "text": "Design new molecules against your objectives: Graph GA, RL on a prior, a GAN."},
    {"key": "literature", "title": "Literature", "href": "/literature", "built": False, "group": "Discovery",
     "roles": STAFF, "text": "Chemicals, diseases and genes in papers, their relations with evidence, a graph."},
    {"key": "development", "title": "Drug development", "href": "/development", "built": False,
     "group": "Development", "roles": STAFF,
     "text": "PK simulation, NCA, dissolution and formulation, drug-drug interactions."},
    {"key": "trials", "title": "Clinical trials", "href": "/trials", "built": True, "group": "Trials",
     "roles": STAFF,
     "text": "Design calculator, meta-analysis, safety signals, criteria parsing and explainable patient matching.",
     "pages": [{"title": "Design calculator", "href": "/trials"},
               {"title": "Meta-analysis", "href": "/trials/meta"},
               {"title": "Safety signals", "href": "/trials/safety"},
               {"title": "Recruitment and matching", "href": "/trials/matching"}]},
    {"key": "trials_outcome", "title": "Trial outcome", "href": "/trials/outcome", "built": True, "group": "Trials",
     "roles": STAFF,
     "text": "A draft protocol's probability of success, its drivers, similar past trials and what-if edits."},
    {"key": "ehr", "title": "Patients (EHR)", "href": "/ehr", "built": False, "group": "Clinical", "roles": STAFF,
     "text": "FHIR R4 ingestion, the patient model, terminologies."},
    {"key": "monitoring", "title": "Remote monitoring", "href": "/monitoring", "built": False, "group": "Clinical",
     "roles": STAFF,
     "text": "Vital-sign streams over HTTP and MQTT, NEWS2, alerts; the ward view and patient timelines.",
     "pages": [{"title": "Ward board", "href": "/monitoring"}, {"title": "ECG analysis", "href": "/monitoring/ecg"}]},
    {"key": "pgx", "title": "Pharmacogenomics", "href": "/pgx", "built": False, "group": "Clinical",
     "roles": ("clinician",), "text": "VCF to star alleles, phenotypes and CPIC dosing recommendations."},
    {"key": "precision", "title": "Precision medicine", "href": "/precision", "built": False, "group": "Clinical",
     "roles": STAFF, "text": "Tumour variants to therapies, polygenic risk panel, chest X-ray viewer with Grad-CAM."},
    {"key": "assistant", "title": "Health assistant", "href": "/assistant", "built": False, "group": "Clinical",
     "roles": ("patient", "clinician"),
     "text": "Patients ask questions and report symptoms; clinicians answer the hand-offs in their inbox.",
     "patient_text": "Ask a question about your health or your medicines, or tell your care team how you feel.",
     "pages": [{"title": "Chat", "href": "/assistant", "roles": ("patient",)},
               {"title": "Clinician inbox", "href": "/assistant/inbox", "roles": ("clinician",)}]},
]


def may_use(roles: Any, allowed: Any) -> bool:
    """True when a user holding ``roles`` may use something open to ``allowed`` (admin may use everything)."""
    held = set(roles or ())
    return "admin" in held or not allowed or bool(held & set(allowed))


def roles_for_path(path: str) -> tuple[str, ...] | None:
    """The roles that may open ``path`` by the domain list (longest matching page or domain), None if unlisted."""
    best: tuple[int, tuple[str, ...]] | None = None
    for domain in DOMAINS:
        for entry in [domain, *domain.get("pages", [])]:
            href = entry["href"]
            if _active(path, href) and (best is None or len(href) >= best[0]):  # a page beats its domain
                best = (len(href), tuple(entry.get("roles", domain["roles"])))
    return best[1] if best else None


def visible_domains(user: Any) -> list[dict[str, Any]]:
    """The built domains ``user`` may use, each with only the sub-pages the user may open.

    A domain whose own ``href`` the user may not open (the assistant chat for a clinician) points at
    the first sub-page they may open instead.
    """
    if user is None:
        return []
    roles = getattr(user, "roles", ())
    shown = []
    for domain in DOMAINS:
        if not domain["built"] or not may_use(roles, domain["roles"]):
            continue
        pages = [p for p in domain.get("pages", []) if may_use(roles, p.get("roles", domain["roles"]))]
        href = pages[0]["href"] if pages and not any(p["href"] == domain["href"] for p in pages) else domain["href"]
        text = domain.get("patient_text", domain["text"]) if set(roles) == {"patient"} else domain["text"]
        shown.append({**domain, "href": href, "pages": pages, "text": text})
    return shown


def navigation(user: Any, path: str = "/") -> list[dict[str, Any]]:
    """The top bar's groups for ``user``: ``{"title", "items": [domain...], "active"}``, empty groups left out."""
    domains = visible_domains(user)
    groups = []
    for title in GROUPS:
        items = [d for d in domains if d["group"] == title]
        if not items:
            continue
        active = any(_active(path, d["href"]) or any(_active(path, p["href"]) for p in d["pages"]) for d in items)
        groups.append({"title": title, "items": items, "active": active})
    return groups


def _active(path: str, href: str) -> bool:
    return path == href or (href != "/" and path.startswith(href.rstrip("/") + "/"))


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render ``name`` with the common context (user, version, domains the user may use, navigation)."""
    user = getattr(request.state, "user", None)
    ctx = {"request": request, "version": __version__, "domains": visible_domains(user), "all_domains": DOMAINS,
           "nav": navigation(user, request.url.path), "user": user,
           "is_staff": bool(user and may_use(user.roles, STAFF))}
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def mark_built(key: str) -> None:
    """A page module calls this on import so the home page shows its card as available."""
    for domain in DOMAINS:
        if domain["key"] == key:
            domain["built"] = True
