"""UCUM unit normalisation for common laboratory results and vital signs.

Why: the same glucose arrives as 99 mg/dL from one lab and 5.5 mmol/L from another; a criterion
such as "HbA1c >= 7 %" or a NEWS2 temperature band is only right if every value is in one unit.
Each LOINC code in ``data/loinc_common.csv`` has one canonical UCUM unit; values are converted
to it here. Conversions are exact scale factors within a dimension (mass concentration, molar
concentration, mass, length, pressure, rate, catalytic activity, cell count), molar masses for
mass <-> molar concentration of a named analyte, affine formulas for temperature and for HbA1c
(IFCC mmol/mol <-> NGSP %, the IFCC-NGSP master equation NGSP = 0.09148 * IFCC + 2.152).

A unit that cannot be converted raises :class:`~theralab.errors.InputError`, never a guess.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from theralab.errors import InputError

# unit -> (dimension, factor to the dimension's base unit)
_SCALE: dict[str, tuple[str, float]] = {
    # mass concentration, base g/L
    "g/L": ("mass_conc", 1.0),
    "g/dL": ("mass_conc", 10.0),
    "mg/dL": ("mass_conc", 1e-2),
    "mg/L": ("mass_conc", 1e-3),
    "mg/mL": ("mass_conc", 1.0),
    "ug/mL": ("mass_conc", 1e-3),
    "ug/dL": ("mass_conc", 1e-5),
    "ug/L": ("mass_conc", 1e-6),
    "ng/mL": ("mass_conc", 1e-6),
    "ng/L": ("mass_conc", 1e-9),
    "pg/mL": ("mass_conc", 1e-9),
    # molar concentration, base mol/L
    "mol/L": ("molar_conc", 1.0),
    "mmol/L": ("molar_conc", 1e-3),
    "umol/L": ("molar_conc", 1e-6),
    "nmol/L": ("molar_conc", 1e-9),
    "pmol/L": ("molar_conc", 1e-12),
    # equivalents, base eq/L (converted to molar via the ion's valence)
    "meq/L": ("eq_conc", 1e-3),
    # mass, base kg
    "kg": ("mass", 1.0),
    "g": ("mass", 1e-3),
    "mg": ("mass", 1e-6),
    "[lb_av]": ("mass", 0.45359237),
    "[oz_av]": ("mass", 0.028349523125),
    # length, base m
    "m": ("length", 1.0),
    "cm": ("length", 1e-2),
    "mm": ("length", 1e-3),
    "[in_i]": ("length", 0.0254),
    "[ft_i]": ("length", 0.3048),
    # pressure, base mm[Hg]
    "mm[Hg]": ("pressure", 1.0),
    "kPa": ("pressure", 7.500615758),
    # rate, base /min
    "/min": ("rate", 1.0),
    "/s": ("rate", 60.0),
    "/h": ("rate", 1.0 / 60.0),
    # catalytic activity concentration, base U/L (1 ukat/L = 60 U/L)
    "U/L": ("catalytic", 1.0),
    "ukat/L": ("catalytic", 60.0),
    # number concentration, base /L
    "10*3/uL": ("count", 1e9),
    "10*9/L": ("count", 1e9),
    "10*6/uL": ("count", 1e12),
    "10*12/L": ("count", 1e12),
    "/uL": ("count", 1e6),
    # identity dimensions
    "%": ("percent", 1.0),
    "mmol/mol": ("ifcc", 1.0),
    "kg/m2": ("bmi", 1.0),
    "mL/min/{1.73_m2}": ("gfr", 1.0),
    "{score}": ("score", 1.0),
    "{steps}": ("steps", 1.0),
    "{INR}": ("inr", 1.0),
}
_TEMPERATURE = {"Cel", "[degF]", "K"}

# spellings seen in the wild -> UCUM (keys lower-case, spaces removed)
_ALIASES: dict[str, str] = {
    "mg/dl": "mg/dL",
    "g/dl": "g/dL",
    "g/l": "g/L",
    "mg/l": "mg/L",
    "mg/ml": "mg/mL",
    "ug/ml": "ug/mL",
    "µg/ml": "ug/mL",
    "mcg/ml": "ug/mL",
    "ug/dl": "ug/dL",
    "µg/dl": "ug/dL",
    "ug/l": "ug/L",
    "ng/ml": "ng/mL",
    "ng/l": "ng/L",
    "pg/ml": "pg/mL",
    "mol/l": "mol/L",
    "mmol/l": "mmol/L",
    "umol/l": "umol/L",
    "µmol/l": "umol/L",
    "micromol/l": "umol/L",
    "nmol/l": "nmol/L",
    "pmol/l": "pmol/L",
    "meq/l": "meq/L",
    "m[eq]/l": "meq/L",
    "kg": "kg",
    "g": "g",
    "mg": "mg",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
    "[lb_av]": "[lb_av]",
    "oz": "[oz_av]",
    "[oz_av]": "[oz_av]",
    "m": "m",
    "cm": "cm",
    "mm": "mm",
    "in": "[in_i]",
    "[in_i]": "[in_i]",
    "ft": "[ft_i]",
    "[ft_i]": "[ft_i]",
    "mm[hg]": "mm[Hg]",
    "mmhg": "mm[Hg]",
    "kpa": "kPa",
    "/min": "/min",
    "1/min": "/min",
    "{beats}/min": "/min",
    "beats/min": "/min",
    "bpm": "/min",
    "{breaths}/min": "/min",
    "breaths/min": "/min",
    "/s": "/s",
    "/h": "/h",
    "u/l": "U/L",
    "iu/l": "U/L",
    "[iu]/l": "U/L",
    "ukat/l": "ukat/L",
    "µkat/l": "ukat/L",
    "10*3/ul": "10*3/uL",
    "10^3/ul": "10*3/uL",
    "k/ul": "10*3/uL",
    "10*9/l": "10*9/L",
    "10^9/l": "10*9/L",
    "10*6/ul": "10*6/uL",
    "10^6/ul": "10*6/uL",
    "m/ul": "10*6/uL",
    "10*12/l": "10*12/L",
    "10^12/l": "10*12/L",
    "/ul": "/uL",
    "/mm3": "/uL",
    "%": "%",
    "mmol/mol": "mmol/mol",
    "kg/m2": "kg/m2",
    "kg/m^2": "kg/m2",
    "ml/min/{1.73_m2}": "mL/min/{1.73_m2}",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73_m2": "mL/min/{1.73_m2}",
    "ml/min/{1.73m2}": "mL/min/{1.73_m2}",
    "{score}": "{score}",
    "{steps}": "{steps}",
    "{inr}": "{INR}",
    "cel": "Cel",
    "degc": "Cel",
    "°c": "Cel",
    "c": "Cel",
    "[degf]": "[degF]",
    "degf": "[degF]",
    "°f": "[degF]",
    "f": "[degF]",
    "k": "K",
}

# analyte -> (molar mass g/mol used for mass <-> molar conversion, ionic valence for mEq)
ANALYTES: dict[str, tuple[float, int]] = {
    "glucose": (180.156, 0),
    "cholesterol": (386.654, 0),
    "triglyceride": (885.7, 0),  # as triolein, the clinical-chemistry convention (1 mmol/L = 88.57 mg/dL)
    "creatinine": (113.118, 0),
    "urea_nitrogen": (28.014, 0),  # BUN: 1 mmol/L urea carries 28.014 mg/L nitrogen
    "bilirubin": (584.662, 0),
    "calcium": (40.078, 2),
    "sodium": (22.990, 1),
    "potassium": (39.098, 1),
    "chloride": (35.453, 1),
    "bicarbonate": (61.017, 1),
    "hemoglobin": (16114.5, 0),  # per haem-bearing monomer, as SI reporting of Hb in mmol/L uses
}

# units accepted for one analyte although not the canonical spelling (documented mislabels)
_CODE_ALIASES: dict[str, dict[str, str]] = {
    # Synthea writes eGFR (a per-1.73 m2 quantity by its LOINC definition) as plain mL/min
    "gfr": {"mL/min": "mL/min/{1.73_m2}", "ml/min": "mL/min/{1.73_m2}"},
}


@dataclass(frozen=True)
class LoincInfo:
    """What theralab knows about one LOINC code: display, canonical UCUM unit, analyte, category."""

    code: str
    display: str
    unit: str | None
    analyte: str | None
    category: str | None


@lru_cache(maxsize=1)
def loinc_table() -> dict[str, LoincInfo]:
    """The curated LOINC table shipped in ``theralab/ehr/data/loinc_common.csv``."""
    text = resources.files("theralab.ehr").joinpath("data/loinc_common.csv").read_text(encoding="utf-8")
    out: dict[str, LoincInfo] = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["code"]] = LoincInfo(
            row["code"], row["display"], row["unit"] or None, row["analyte"] or None, row["category"] or None
        )
    return out


def canonical_unit_text(unit: str | None) -> str | None:
    """Return the UCUM spelling of ``unit`` when known, else the unit stripped (or None when empty)."""
    if unit is None:
        return None
    stripped = unit.strip()
    if not stripped:
        return None
    return _ALIASES.get(stripped.lower().replace(" ", ""), stripped)


def _to_celsius(value: float, unit: str) -> float:
    if unit == "Cel":
        return value
    if unit == "[degF]":
        return (value - 32.0) * 5.0 / 9.0
    return value - 273.15  # K


def _from_celsius(value: float, unit: str) -> float:
    if unit == "Cel":
        return value
    if unit == "[degF]":
        return value * 9.0 / 5.0 + 32.0
    return value + 273.15


def convert(value: float, from_unit: str, to_unit: str, analyte: str | None = None) -> float:
    """Convert ``value`` from one UCUM unit to another.

    Args:
        value: the number.
        from_unit: its unit (UCUM or a common spelling such as ``mg/dl``, ``lbs``, ``degF``).
        to_unit: the wanted unit.
        analyte: needed to cross between mass and molar concentration (``glucose``,
            ``cholesterol``, ``creatinine``...), or between % and mmol/mol for ``hba1c``.

    Raises:
        InputError: when the units measure different things, or the analyte needed for a
            mass/molar conversion is unknown.
    """
    src = canonical_unit_text(from_unit) or ""
    dst = canonical_unit_text(to_unit) or ""
    if analyte in _CODE_ALIASES:
        src = _CODE_ALIASES[analyte].get(src, src)
        dst = _CODE_ALIASES[analyte].get(dst, dst)
    if src == dst:
        return float(value)
    if src in _TEMPERATURE and dst in _TEMPERATURE:
        return _from_celsius(_to_celsius(float(value), src), dst)
    if analyte == "hba1c" and {src, dst} == {"%", "mmol/mol"}:
        return value * 0.09148 + 2.152 if src == "mmol/mol" else (value - 2.152) / 0.09148
    if src not in _SCALE or dst not in _SCALE:
        unknown = src if src not in _SCALE else dst
        raise InputError(
            f"unit {unknown!r} is not a unit theralab can convert",
            where=f"{from_unit} -> {to_unit}",
            hint="use a UCUM unit (https://ucum.org), e.g. mg/dL, mmol/L, kg, Cel, mm[Hg], /min",
        )
    (sdim, sf), (ddim, df) = _SCALE[src], _SCALE[dst]
    if sdim == ddim:
        return float(value) * sf / df
    base = float(value) * sf
    dims = {sdim, ddim}
    if analyte in ANALYTES and dims <= {"mass_conc", "molar_conc", "eq_conc"}:
        molar_mass, valence = ANALYTES[analyte]
        # to mol/L
        if sdim == "mass_conc":
            mol = base / molar_mass
        elif sdim == "eq_conc":
            if not valence:
                raise InputError(f"{analyte} is not an ion; mEq/L does not apply", where=f"{from_unit} -> {to_unit}")
            mol = base / valence
        else:
            mol = base
        if ddim == "mass_conc":
            out = mol * molar_mass
        elif ddim == "eq_conc":
            if not valence:
                raise InputError(f"{analyte} is not an ion; mEq/L does not apply", where=f"{from_unit} -> {to_unit}")
            out = mol * valence
        else:
            out = mol
        return out / df
    need = " (name the analyte)" if dims <= {"mass_conc", "molar_conc", "eq_conc"} else ""
    raise InputError(
        f"cannot convert {from_unit!r} ({sdim}) to {to_unit!r} ({ddim}){need}",
        where=f"{from_unit} -> {to_unit}" + (f" for {analyte}" if analyte else ""),
        hint="mass and molar concentrations convert only for analytes with a known molar mass: "
        + ", ".join(sorted(ANALYTES)),
    )


@dataclass(frozen=True)
class Normalised:
    """A value in the canonical unit of its LOINC code (``unit_ok`` False when not convertible)."""

    value: float | None
    unit: str | None
    unit_ok: bool = True
    problem: str | None = None


def normalise(code: str | None, value: float | None, unit: str | None) -> Normalised:
    """Put ``value`` in the canonical unit of LOINC ``code``.

    Codes outside the curated table keep their value, with the unit spelled in UCUM when known.
    A value whose unit cannot be converted comes back with ``value=None`` and ``unit_ok=False``
    and the reason, so callers store the original but never compare a wrong number.
    """
    info = loinc_table().get(code or "")
    clean = canonical_unit_text(unit)
    if value is None:
        return Normalised(None, clean)
    if info is None or info.unit is None:
        return Normalised(float(value), clean)
    if clean is None:
        # a dimensionless canonical unit ({score}) may arrive without a unit
        if info.unit.startswith("{") or info.unit == "%":
            return Normalised(float(value), info.unit)
        return Normalised(None, None, False, f"no unit given for LOINC {code}; expected {info.unit}")
    try:
        return Normalised(convert(float(value), clean, info.unit, info.analyte), info.unit)
    except InputError as exc:
        return Normalised(None, clean, False, f"LOINC {code}: {exc.message}")
