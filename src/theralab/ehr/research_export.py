"""Research export: the consented patients' records as de-identified FHIR ndjson.

Only patients whose ``research`` consent allows it now are included (checked at export time, so a
withdrawal made a second earlier is honoured); every resource goes through
:class:`~theralab.privacy.deid.Deidentifier` with the site key, so pseudonyms link the same patient
across exports without revealing them.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from theralab.privacy import consent
from theralab.privacy.deid import DeidConfig, Deidentifier, load_key


def research_export(session: Session, *, limit: int = 1000) -> tuple[bytes, int, int]:
    """(ndjson bytes, patients included, patients withheld for lack of research consent)."""
    from theralab.ehr.fhir import export_patient
    from theralab.ehr.patients import list_patients

    ids = [p.id for p in list_patients(session, limit=limit, offset=0)]
    allowed = consent.filter_allowed(session, ids, "research")
    deid = Deidentifier(DeidConfig(key=load_key()))
    lines: list[str] = []
    for pid in allowed:
        bundle = export_patient(session, pid)
        resources = [e["resource"] for e in bundle.get("entry", []) if "resource" in e]
        resources.sort(key=lambda r: r.get("resourceType") != "Patient")  # names known before notes
        for resource in resources:
            lines.append(json.dumps(deid.resource(resource, pid), separators=(",", ":")))
    return ("\n".join(lines) + ("\n" if lines else "")).encode(), len(allowed), len(ids) - len(allowed)
