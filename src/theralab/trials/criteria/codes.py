"""Map criteria entities to SNOMED CT, ICD-10-CM, LOINC and RxNorm codes.

Two sources, both offline:

* :mod:`theralab.ehr.terminology`, the curated tables the patient model is coded with (SNOMED CT
  conditions with ICD-10-CM targets, RxNorm ingredients, common LOINC labs and vitals), so a
  criterion maps to exactly the codes a patient's record carries;
* ``data/criteria_codes.csv``, synonyms and abbreviations as they appear in criteria (``HTN``,
  ``ANC``, ``SGPT``, ``type II diabetes``) plus concepts common in criteria that the patient
  tables lack (HIV, hepatitis B/C, pregnancy, chemotherapy…).

Lookup, in order: exact term; the longest lexicon term found as whole words inside the mention
(``uncontrolled hypertension`` -> hypertension, ``match="partial"``); a close spelling
(``diabetis`` -> diabetes, ``match="fuzzy"``, difflib ratio >= 0.88). A procedure that is a drug
given ("ACE inhibitor therapy") is coded as the drug (RxNorm; lookup says ``"drug therapy"``): the record
holds it as a medication, not a SNOMED CT procedure. Coverage is partial by design: anything else
is returned unmapped and flagged, never guessed.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

#: Which code systems fit which entity kind.
KIND_SYSTEMS: dict[str, tuple[str, ...]] = {
    "condition": ("snomed",), "observation": ("snomed", "loinc"), "procedure": ("snomed",),
    "drug": ("rxnorm",), "measurement": ("loinc",),
}
FUZZY_CUTOFF = 0.88
#: "<drug or class> therapy" tagged as a procedure ("ACE inhibitor therapy", "insulin treatment"):
#: coded as the drug (RxNorm), which is what a patient's record carries for it
_DRUG_THERAPY = re.compile(r"^(?P<drug>.+?)\s+(?:therapy|treatment|medication|regimen)$")
_LEADING = re.compile(
    r"^(?:(?:a|an|the|any|known|active|current|documented|confirmed|diagnosed|diagnosis of|history of|"
    r"uncontrolled|controlled|severe|significant|clinically significant|chronic|acute|serum|plasma|"
    r"prior|previous|concurrent|concomitant|other|untreated|treated)\s+)+"
)


@dataclass(frozen=True)
class LexEntry:
    """One lexicon row: a normalised term and the code it maps to."""

    term: str
    kind: str
    system: str
    code: str
    display: str
    icd10cm: str = ""


def clean_term(text: str) -> str:
    """Lower-case, drop punctuation (except ' and -), collapse spaces and a plural ``s``."""
    t = text.lower().replace("\u2019", "'").replace("\u2013", "-")
    t = re.sub(r"[^\w'\- ]+", " ", t)
    t = re.sub(r"\s+", " ", t).strip(" -")
    return t


def _variants(term: str) -> set[str]:
    out = {term}
    if term.endswith("s") and len(term) > 4 and not term.endswith(("ss", "sis", "us")):
        out.add(term[:-1])
    return out


@lru_cache(maxsize=1)
def lexicon() -> dict[str, list[LexEntry]]:
    """Normalised term -> entries, merged from ``theralab.ehr.terminology`` and our CSV."""
    entries: list[LexEntry] = []
    text = resources.files("theralab.trials").joinpath("data/criteria_codes.csv").read_text(encoding="utf-8")
    for r in csv.DictReader(text.splitlines()):
        entries.append(LexEntry(clean_term(r["term"]), r["kind"], r["system"], r["code"], r["display"],
                                r.get("icd10cm") or ""))
    try:  # the colleague's terminology tables: the codes patient records carry
        from theralab.ehr import terminology

        for c in terminology.snomed_concepts().values():
            name = re.sub(r"\s*\((disorder|finding)\)$", "", c.display)
            entries.append(LexEntry(clean_term(name), "condition", "snomed", c.code, name, c.icd10cm or ""))
        for rxcui, name in terminology.rxnorm_ingredients().items():
            entries.append(LexEntry(clean_term(name), "drug", "rxnorm", rxcui, name))
    except (ImportError, AttributeError, OSError):  # pragma: no cover - module absent or changed
        pass
    table: dict[str, list[LexEntry]] = {}
    for e in entries:
        for v in _variants(e.term):
            bucket = table.setdefault(v, [])
            if all((x.system, x.code) != (e.system, e.code) for x in bucket):
                bucket.append(e)
    return table


def _icd10(entry: LexEntry) -> str:
    if entry.system != "snomed":
        return ""
    try:
        from theralab.ehr.terminology import snomed_to_icd10

        return snomed_to_icd10(entry.code) or entry.icd10cm
    except ImportError:  # pragma: no cover
        return entry.icd10cm


def lookup(text: str, kind: str) -> tuple[list[dict[str, str]], str | None]:
    """Codes for a mention of ``kind``; returns (codes, how matched) or ([], None) when unmapped.

    Each code is ``{"system", "code", "display", "match"}``; a SNOMED CT condition with an
    ICD-10-CM target yields both.
    """
    systems = KIND_SYSTEMS.get(kind)
    if not systems:
        return [], None
    table = lexicon()
    term = clean_term(text)
    stripped = _LEADING.sub("", term)
    candidates = [t for t in (term, stripped) if t]
    hit, how = None, None
    for t in candidates:
        for v in _variants(t):
            if v in table and _fits(table[v], systems):
                hit, how = v, "exact"
                break
        if hit:
            break
    if hit is None and kind == "procedure":
        drug = _DRUG_THERAPY.match(stripped)
        if drug:
            codes, how = lookup(drug["drug"], "drug")
            if codes and how in ("exact", "partial"):
                return codes, "drug therapy"
    if hit is None:
        words = term.split()
        for n in range(len(words) - 1, 0, -1):
            for i in range(len(words) - n + 1):
                sub = " ".join(words[i:i + n])
                if sub in table and _fits(table[sub], systems) and (len(sub) > 3 or n == len(words)):
                    hit, how = sub, "partial"
                    break
            if hit:
                break
    if hit is None and len(stripped) >= 5:
        keys = [k for k, v in table.items() if len(k) >= 5 and _fits(v, systems)]
        close = difflib.get_close_matches(stripped, keys, n=1, cutoff=FUZZY_CUTOFF)
        if close:
            hit, how = close[0], "fuzzy"
    if hit is None:
        return [], None
    codes: list[dict[str, str]] = []
    for e in table[hit]:
        if e.system not in systems:
            continue
        codes.append({"system": e.system, "code": e.code, "display": e.display, "match": how or ""})
        icd = _icd10(e)
        if icd and kind == "condition":
            codes.append({"system": "icd10cm", "code": icd, "display": e.display, "match": how or ""})
    seen: set[tuple[str, str]] = set()
    unique = [c for c in codes if not ((c["system"], c["code"]) in seen or seen.add((c["system"], c["code"])))]
    return unique, how


def _fits(entries: list[LexEntry], systems: tuple[str, ...]) -> bool:
    return any(e.system in systems for e in entries)
