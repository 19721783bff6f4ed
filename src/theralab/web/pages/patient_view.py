"""What the patient pages show, prepared once: the header, the latest observations and safe notes.

Not a page module (no router): the EHR, monitoring, PGx and matching pages import it so a patient
looks the same everywhere.

* :func:`header` is :func:`theralab.ehr.header.patient_header` (the one place identity, allergies and
  PGx phenotypes are assembled) for the ``patient_header(p)`` macro in ``_patient.html``.
* :func:`latest_observations` merges the record's newest value per LOINC code with the newest
  streamed vitals (monitoring devices), shows a blood-pressure panel as "systolic/diastolic" from
  its components, and says where each value came from.
* :func:`note_html` renders a note's markdown with raw HTML switched off (it is escaped), so a
  note can never inject markup or script into the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from theralab.ehr.header import PatientHeader, patient_header

BP_PANEL, SYSTOLIC, DIASTOLIC = "85354-9", "8480-6", "8462-4"
#: genotype results (LOINC 84413-4 and its components) are shown with the PGx phenotypes, not as observations
GENOTYPE_CODES = {"84413-4", "48018-6", "53040-2"}
#: UCUM codes as a reader writes them
UNIT_LABELS = {"mm[Hg]": "mmHg", "Cel": "°C", "[degF]": "°F", "{score}": "points", "{steps}": "steps",
               "mL/min/{1.73_m2}": "mL/min/1.73 m²", "10*3/uL": "×10³/µL", "10*6/uL": "×10⁶/µL", "ug/L": "µg/L",
               "kg/m2": "kg/m²", "[lb_av]": "lb", "{beats}/min": "/min", "{breaths}/min": "/min"}


def unit_label(unit: str | None) -> str:
    """A UCUM unit code as it reads on a page (``mm[Hg]`` -> ``mmHg``, ``Cel`` -> ``°C``)."""
    if not unit:
        return ""
    return UNIT_LABELS.get(unit, unit)
#: LOINC codes of one quantity, shown as one line (oxygen saturation by pulse oximetry and in blood)
SAME_QUANTITY = {"2708-6": "59408-5"}


@dataclass
class ObservationRow:
    """One line of "latest observations": a number with its unit, or a panel's text ("128/79")."""

    code: str
    name: str
    value: float | None
    unit: str | None
    text: str | None
    at: datetime | None
    source: str
    unit_note: str | None = None

    @property
    def unit_text(self) -> str:
        return unit_label(self.unit)


def header(session: Session, patient_id: str, user: Any) -> PatientHeader:
    """The patient header, for a ``user`` who may see the patient (care team or the patient themself).

    Raises:
        ForbiddenError: the patient is not under ``user``'s care (audited by the check).
        NotFoundError: an unknown id.
    """
    user.require_patient(session, patient_id)
    return patient_header(session, patient_id)


def _bp_text(systolic: float | None, diastolic: float | None) -> str | None:
    if systolic is None or diastolic is None:
        return None
    return f"{systolic:.0f}/{diastolic:.0f}"


def latest_observations(session: Session, record: Any, now: datetime | None = None) -> list[ObservationRow]:
    """The newest value per quantity, charted and streamed together (one store), alphabetically.

    The record's observations already hold the newest streamed reading of each code
    (:func:`theralab.ehr.patients.load_patient`); two codes of one quantity (SpO2 as 59408-5 in a
    record, 2708-6 from a device) show once, the newer winning, and a device's systolic and
    diastolic readings of one moment show as one blood-pressure row like a charted panel.
    ``session`` is kept for callers; nothing more is read.
    """
    now = now or datetime.now(UTC)
    latest = record.latest_values(now)
    children: dict[str, dict[str, float | None]] = {}
    for o in record.observations:
        if o.parent_id:
            children.setdefault(o.parent_id, {})[o.code or ""] = o.value
    rows: dict[str, ObservationRow] = {}

    def keep(key: str, row: ObservationRow) -> None:
        current = rows.get(key)
        if current is None or current.at is None or (row.at is not None and row.at >= current.at):
            rows[key] = row

    streamed_bp: dict[str, Any] = {}
    for code, o in latest.items():
        if code in GENOTYPE_CODES:
            continue
        source = "streamed (device)" if getattr(o, "device_id", None) else "record"
        if code in (SYSTOLIC, DIASTOLIC) and not o.parent_id:
            streamed_bp[code] = o  # a device's (or a lone charted) component: paired below
            continue
        if o.parent_id and code in (SYSTOLIC, DIASTOLIC) and BP_PANEL in latest:
            continue  # shown in the panel's row
        if code == BP_PANEL:
            parts = children.get(o.id, {})
            keep(BP_PANEL, ObservationRow(code, "Blood pressure", None, "mm[Hg]",
                                          _bp_text(parts.get(SYSTOLIC), parts.get(DIASTOLIC)) or "components missing",
                                          o.effective, source))
            continue
        note = None if o.unit_ok else f"as recorded: {o.value_orig} {o.unit_orig} (unit could not be converted)"
        keep(SAME_QUANTITY.get(code, code),
             ObservationRow(code, o.display or code, o.value, o.unit, o.value_text if o.value is None else None,
                            o.effective, source, note))
    sys_, dia = streamed_bp.get(SYSTOLIC), streamed_bp.get(DIASTOLIC)
    if sys_ is not None and dia is not None:
        at = max(sys_.effective, dia.effective) if sys_.effective and dia.effective else sys_.effective
        source = "streamed (device)" if getattr(sys_, "device_id", None) else "record"
        keep(BP_PANEL, ObservationRow(BP_PANEL, "Blood pressure", None, "mm[Hg]", _bp_text(sys_.value, dia.value),
                                      at, source))
    return sorted(rows.values(), key=lambda r: r.name.lower())


def note_html(text: str, limit: int = 20000) -> Markup:
    """A note's markdown as HTML; raw HTML in the note is escaped, unsafe link schemes are dropped."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    body = (text or "")[:limit]
    # notes use '# Heading' for sections; inside a page they are sub-headings, not page titles
    return Markup(md.render(body).replace("<h1>", "<h3>").replace("</h1>", "</h3>")
                  .replace("<h2>", "<h4>").replace("</h2>", "</h4>"))
