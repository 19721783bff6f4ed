"""De-identification of FHIR resources and clinical notes (HIPAA Safe Harbor), with keyed pseudonyms.

What is done (45 CFR 164.514(b)(2), the 18 identifiers):

* **Names** (patient, relatives, practitioners): removed from structured fields; in free text
  replaced by ``[NAME]`` where they are known from the record (the patient's and the bundle's
  practitioners' names, so "Larue605" is found anywhere) or written with a title ("Dr. Kunze",
  "Mrs. Ortiz") or after a label ("Patient: Jane Roe", "Name:").
* **Dates**: every date and date-time is shifted by a per-patient offset (1 to 365 days, earlier or
  later, from the keyed hash of the patient id): intervals inside one patient's record are kept,
  so a research export still shows that a lab came 3 days after admission. (Strict Safe Harbor
  keeps only the year; ``DeidConfig(keep_year_only=True)`` does that instead.)
* **Ages over 89**: the birth date is dropped and the patient is marked ``90+``; in text
  "93 year-old" becomes "90+ year-old".
* **Geography**: street, city and district removed; state kept; ZIP cut to its first three digits,
  or ``000`` for the 17 three-digit areas with 20,000 people or fewer (2000 census list).
* **Phones, fax, e-mail, URLs, IP addresses, SSNs, MRNs and other record/account/licence numbers**:
  removed from structured fields (``telecom``, ``identifier``) and replaced in text by a tag.
* **Identifiers that link records** (resource ids, references, MRNs) become keyed pseudonyms:
  ``HMAC-SHA256(key, kind + value)``, so one patient keeps one pseudonym across exports made with
  the same key, and nobody without the key can map it back (the key never leaves the site).
* Narrative ``text`` is dropped (it repeats the structured fields); attachments holding text notes are
  de-identified like notes; binary attachments are dropped.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

#: Three-digit ZIP areas with 20,000 or fewer people (HHS guidance, 2000 census): reported as 000.
RESTRICTED_ZIP3 = frozenset("036 059 063 102 203 556 692 790 821 823 830 831 878 879 884 890 893".split())

_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?\b")
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{2,4})\b")
_MONTH_DATE = re.compile(
    r"\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}\b")
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("URL", re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.I)),
    ("IP", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("PHONE", re.compile(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b")),
    ("MRN", re.compile(r"\b(?:MRN|MR#|medical record(?: number)?|record no\.?|account(?: number)?|acct|"
                       r"member id|policy(?: number)?|licen[cs]e(?: number)?)\s*[:#]?\s*[A-Z0-9][A-Z0-9-]{3,}\b",
                       re.I)),
    ("ID", re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)),
    ("ZIP", re.compile(r"\b\d{5}(?:-\d{4})\b|(?<=[A-Z]{2} )\d{5}\b")),
    ("ADDRESS", re.compile(r"\b\d{1,5} (?:[A-Z][a-z]+ ){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|"
                           r"Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Suite)\b\.?")),
]
_TITLED = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Prof|Nurse)\.? ((?:[A-Z]\. )?(?:[A-Z][a-zA-Z'-]+\d*)"
                     r"(?: [A-Z][a-zA-Z'-]+\d*)?)")
_LABELLED = re.compile(r"\b(?:Patient|Name|Mother|Father|Spouse|Son|Daughter|Contact|Guardian)\s*:\s*"
                       r"((?:[A-Z][a-zA-Z'-]+\d*)(?: [A-Z]\.)?(?: [A-Z][a-zA-Z'-]+\d*)?)")
_KIN = re.compile(r"\b(?:[Dd]aughter|[Ss]on|[Ww]ife|[Hh]usband|[Gg]rand(?:son|daughter)|[Mm]other|[Ff]ather|[Bb]rother|"
                  r"[Ss]ister|[Pp]artner|[Ss]pouse|[Nn]iece|[Nn]ephew|[Ff]riend|[Cc]aregiver)\)? \(?"
                  r"([A-Z][a-z'-]+\d*(?: [A-Z][a-z'-]+\d*)?)\b(?!\s*:)")
_AGE = re.compile(r"\b(\d{2,3})(?=[ -](?:year|yr)s?[ -]old\b|\s*(?:yo|y/o)\b)", re.I)
_DATE_KEYS = re.compile(r"(date|Date|DateTime|Instant|start|end|issued|recorded|authoredOn|occurrence|onset|"
                        r"abatement|effective|period|lastUpdated|birthDate|deceased)", re.I)
#: Capitalised words that follow a kinship word without being a name ("son Name: ...", "wife Present").
_NOT_NAMES = frozenset({"Name", "Present", "At", "The", "Is", "Was", "And", "Or", "Of", "In", "On", "With", "Has",
                        "Had"})
_DROP_KEYS = {"telecom", "photo", "contact", "text", "communication", "link"}


def _name_group(m: re.Match[str]) -> str:
    """Replace only the name (group 1) inside the match, unless it is a common capitalised word."""
    if m.group(1).split()[0] in _NOT_NAMES:
        return m.group(0)
    start, end = m.start(1) - m.start(0), m.end(1) - m.start(0)
    return m.group(0)[:start] + "[NAME]" + m.group(0)[end:]


def load_key(data_dir: str | Path | None = None) -> bytes:
    """The site's pseudonym key: ``THERALAB_DEID_KEY`` or ``<data dir>/deid.key`` (made once, mode 0600)."""
    import os

    env = os.environ.get("THERALAB_DEID_KEY")
    if env:
        return env.encode()
    if data_dir is None:
        from theralab.settings import get_settings

        data_dir = get_settings().data_dir
    path = Path(data_dir) / "deid.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


@dataclass
class DeidConfig:
    key: bytes
    keep_year_only: bool = False
    reference_date: date = field(default_factory=date.today)


class Deidentifier:
    """Safe Harbor de-identification with one key: pseudonyms and date shifts are stable per key."""

    def __init__(self, config: DeidConfig) -> None:
        self.config = config
        self.known_names: dict[str, set[str]] = {}

    # --- pseudonyms and shifts -------------------------------------------------------------------
    def pseudonym(self, kind: str, value: str) -> str:
        """A stable, keyed, irreversible stand-in for ``value`` (same key, same pseudonym)."""
        digest = hmac.new(self.config.key, f"{kind}\x00{value}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode().lower()

    def shift_days(self, patient_id: str) -> int:
        """The patient's date offset: 1 to 365 days, earlier or later (never 0)."""
        digest = hmac.new(self.config.key, f"shift\x00{patient_id}".encode(), hashlib.sha256).digest()
        n = int.from_bytes(digest[:4], "big")
        days = n % 365 + 1
        return days if n & 1 << 31 else -days

    def shift_date_text(self, value: str, patient_id: str) -> str:
        """Shift an ISO date or date-time string (keeping its precision and time zone)."""
        if self.config.keep_year_only:
            return value[:4]
        days = self.shift_days(patient_id)
        try:
            if len(value) == 4:
                return value
            if len(value) == 7:
                return (date.fromisoformat(value + "-15") + timedelta(days=days)).isoformat()[:7]
            if len(value) == 10:
                return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            shifted = (parsed + timedelta(days=days)).isoformat()
            return shifted.replace("+00:00", "Z") if value.endswith("Z") else shifted
        except ValueError:
            return "[DATE]"

    # --- notes -------------------------------------------------------------------------------------
    def remember_names(self, patient_id: str, names: list[str]) -> None:
        """Names (from the record) to find anywhere in this patient's notes."""
        parts = {p for n in names for p in re.split(r"[\s,]+", n or "") if len(p) >= 2}
        self.known_names.setdefault(patient_id, set()).update(parts)

    def scrub_text(self, text: str, patient_id: str = "", *, names: list[str] | None = None) -> str:
        """Free text with the identifiers replaced by tags and dates shifted for ``patient_id``."""
        known = set(self.known_names.get(patient_id, set()))
        for n in names or []:
            known.update(p for p in re.split(r"[\s,]+", n) if len(p) >= 2)
        out = text
        for tag, pattern in _PATTERNS:
            out = pattern.sub(f"[{tag}]", out)
        out = _TITLED.sub(_name_group, out)
        out = _LABELLED.sub(_name_group, out)
        out = _KIN.sub(_name_group, out)
        if known:
            alternation = "|".join(sorted((re.escape(k) for k in known), key=len, reverse=True))
            out = re.sub(rf"\b(?:{alternation})\b", "[NAME]", out)
        out = _DATE.sub(lambda m: self.shift_date_text(m.group(0), patient_id), out)
        out = _US_DATE.sub("[DATE]", out)
        out = _MONTH_DATE.sub("[DATE]", out)
        out = _AGE.sub(lambda m: "90+" if int(m.group(1)) > 89 else m.group(1), out)
        return out

    # --- FHIR --------------------------------------------------------------------------------------
    def _zip(self, postal: str) -> str:
        digits = re.sub(r"\D", "", postal or "")[:3]
        return "000" if len(digits) < 3 or digits in RESTRICTED_ZIP3 else digits

    def _age_over_89(self, birth: str) -> bool:
        try:
            born = date.fromisoformat(birth[:10] if len(birth) >= 10 else birth[:4] + "-01-01")
        except ValueError:
            return False
        ref = self.config.reference_date
        return (ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))) > 89

    def _reference(self, ref: str) -> str:
        if "?" in ref:  # conditional reference naming an identifier (e.g. an NPI): pseudonymise the whole
            kind = ref.split("?", 1)[0]
            return f"{kind}/{self.pseudonym(kind, ref)}"
        if "/" in ref:
            kind, _, rid = ref.rpartition("/")
            kind = kind.rsplit("/", 1)[-1]
            return f"{kind}/{self.pseudonym(kind, rid)}"
        if ref.startswith("urn:uuid:"):
            return "urn:uuid:" + self.pseudonym("uuid", ref[9:])
        return self.pseudonym("ref", ref)

    def _walk(self, node: Any, patient_id: str, key: str = "") -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for k, v in node.items():
                if k in _DROP_KEYS:
                    continue
                if k == "reference" and isinstance(v, str):
                    out[k] = self._reference(v)
                elif k == "display" and isinstance(v, str):
                    out[k] = self.scrub_text(v, patient_id)
                elif k == "identifier":
                    items = v if isinstance(v, list) else [v]
                    out[k] = [{"system": "urn:theralab:pseudonym",
                               "value": self.pseudonym("identifier", str(i.get("value", "")))}
                              for i in items if isinstance(i, dict)]
                    if not isinstance(v, list):
                        out[k] = out[k][0] if out[k] else {}
                elif k in ("name",) and isinstance(v, list):
                    continue
                elif k == "address":
                    items = v if isinstance(v, list) else [v]
                    kept = [{"state": a.get("state"), "country": a.get("country"),
                             "postalCode": self._zip(a.get("postalCode", ""))}
                            for a in items if isinstance(a, dict)]
                    kept = [{kk: vv for kk, vv in a.items() if vv} for a in kept]
                    out[k] = kept if isinstance(v, list) else (kept[0] if kept else {})
                elif k == "valueAddress" and isinstance(v, dict):
                    out[k] = {kk: vv for kk, vv in {"state": v.get("state"), "country": v.get("country")}.items() if vv}
                elif k == "attachment" and isinstance(v, dict):
                    out[k] = self._attachment(v, patient_id)
                elif k in ("valueString", "note", "comment", "description", "text") and isinstance(v, str):
                    out[k] = self.scrub_text(v, patient_id)
                else:
                    out[k] = self._walk(v, patient_id, k)
            return out
        if isinstance(node, list):
            return [self._walk(v, patient_id, key) for v in node]
        if isinstance(node, str) and _DATE_KEYS.search(key) and _DATE.fullmatch(node.strip()):
            return self.shift_date_text(node, patient_id)
        if isinstance(node, str) and key in ("id",):
            return node
        if isinstance(node, str) and key == "valueString":
            return self.scrub_text(node, patient_id)
        return node

    def _attachment(self, att: dict[str, Any], patient_id: str) -> dict[str, Any]:
        kept = {k: att[k] for k in ("contentType", "language") if k in att}
        if str(att.get("contentType", "")).startswith("text/") and "data" in att:
            try:
                text = base64.b64decode(att["data"]).decode("utf-8")
            except Exception:  # noqa: BLE001 - an undecodable attachment is dropped, never passed through
                return kept
            kept["data"] = base64.b64encode(self.scrub_text(text, patient_id).encode()).decode()
        return kept

    def resource(self, resource: dict[str, Any], patient_id: str) -> dict[str, Any]:
        """One FHIR resource de-identified for ``patient_id`` (whose offset shifts its dates)."""
        res = copy.deepcopy(resource)
        kind = res.get("resourceType", "Resource")
        if kind == "Patient":
            birth = str(res.get("birthDate", ""))
            over = bool(birth) and self._age_over_89(birth)
            names = [" ".join([*(n.get("given") or []), n.get("family", "")]) for n in res.get("name", [])]
            self.remember_names(patient_id, names)
            for ext in res.get("extension", []):
                if "mothersMaidenName" in str(ext.get("url")):
                    self.remember_names(patient_id, [str(ext.get("valueString", ""))])
            if over:
                res.pop("birthDate", None)
                res.setdefault("extension", []).append(
                    {"url": "urn:theralab:deid:age", "valueString": "90+"})
            if over:
                res.pop("deceasedDateTime", None)
        if kind in ("Practitioner", "RelatedPerson"):
            names = [" ".join([*(n.get("given") or []), n.get("family", "")]) for n in res.get("name", [])]
            self.remember_names(patient_id, names)
        res["extension"] = [e for e in res.get("extension", []) if "mothersMaidenName" not in str(e.get("url"))]
        if not res["extension"]:
            res.pop("extension")
        out = self._walk(res, patient_id)
        out["id"] = self.pseudonym(kind, str(resource.get("id", "")))
        out.setdefault("meta", {})["security"] = [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "PSEUDED"}]
        return out


def patient_of(resource: dict[str, Any]) -> str:
    """The patient id a resource belongs to (its own id for a Patient)."""
    if resource.get("resourceType") == "Patient":
        return str(resource.get("id", ""))
    for key in ("subject", "patient", "beneficiary"):
        ref = (resource.get(key) or {}).get("reference", "") if isinstance(resource.get(key), dict) else ""
        if ref.startswith("Patient/"):
            return ref.split("/", 1)[1]
        if ref.startswith("urn:uuid:"):
            return ref[9:]
    return ""


def deidentify_resources(resources: list[dict[str, Any]], config: DeidConfig) -> list[dict[str, Any]]:
    """De-identify a set of resources: Patients first (so their names are known for the notes)."""
    deid = Deidentifier(config)
    order = sorted(range(len(resources)), key=lambda i: resources[i].get("resourceType") != "Patient")
    out: list[dict[str, Any] | None] = [None] * len(resources)
    for i in order:
        out[i] = deid.resource(resources[i], patient_of(resources[i]))
    return [r for r in out if r is not None]
