"""Warfarin starting dose by CPIC's 2017 guideline: a pharmacogenetic algorithm, not a lookup.

Why: CPIC's warfarin recommendations (Johnson et al., Clin Pharmacol Ther 2017;102:397-404, figure 2)
are a dosing flowchart, so a lookup table answers "no recommendation" for every genotype, including
VKORC1 -1639 A/A, the most warfarin-sensitive one. The flowchart is implemented here:

1. Non-African ancestry: the dose from a validated pharmacogenetic algorithm with VKORC1 -1639G>A
   and CYP2C9 *2/*3 (the IWPC algorithm is used, IWPC, N Engl J Med 2009;360:753-764, appendix);
   then, for a CYP4F2*3 (rs2108622 T) carrier, increase it by 5-10 %.
2. African ancestry: when CYP2C9 *5, *6, *8 and *11 were tested, the algorithm's dose, decreased by
   15-30 % for a carrier of one of them, and by 10-25 % for rs12777823 A carriers (African
   Americans); when they were not tested, dose clinically (the algorithm under-doses poorly here).

The IWPC equation predicts the square root of the weekly dose::

    sqrt(dose mg/week) = 5.6044 - 0.2614 age(decades) + 0.0087 height(cm) + 0.0128 weight(kg)
        - 0.8677 VKORC1 G/A - 1.6974 VKORC1 A/A - 0.4854 VKORC1 unknown
        - 0.5211 CYP2C9*1/*2 - 0.9357 *1/*3 - 1.0616 *2/*2 - 1.9206 *2/*3 - 2.3312 *3/*3
        - 0.2188 CYP2C9 unknown - 0.1092 Asian - 0.2760 Black or African American
        - 0.1032 missing or mixed race + 1.1816 enzyme inducer - 0.5503 amiodarone

Age in decades is the decade number (a 65-year-old counts 6). Enzyme inducers in IWPC are
carbamazepine, phenytoin, rifampin/rifampicin. The dose predicts the stable maintenance dose
(INR 2-3) and is no substitute for INR monitoring.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from theralab.errors import InputError

IWPC_INTERCEPT = 5.6044
IWPC = {
    "age_decades": -0.2614,
    "height_cm": 0.0087,
    "weight_kg": 0.0128,
    "vkorc1_GA": -0.8677,
    "vkorc1_AA": -1.6974,
    "vkorc1_unknown": -0.4854,
    "cyp2c9_*1/*2": -0.5211,
    "cyp2c9_*1/*3": -0.9357,
    "cyp2c9_*2/*2": -1.0616,
    "cyp2c9_*2/*3": -1.9206,
    "cyp2c9_*3/*3": -2.3312,
    "cyp2c9_unknown": -0.2188,
    "race_asian": -0.1092,
    "race_black": -0.2760,
    "race_mixed": -0.1032,
    "enzyme_inducer": 1.1816,
    "amiodarone": -0.5503,
}
RACES = ("white", "asian", "black", "mixed")
#: CYP2C9 alleles CPIC names for African ancestry (decreased or no function, absent from IWPC)
AFRICAN_CYP2C9 = ("*5", "*6", "*8", "*11")
VKORC1_REF = "rs9923231 reference (C)"
VKORC1_VAR = "rs9923231 variant (T)"


@dataclass
class WarfarinDose:
    """A predicted stable dose with the steps that produced it.

    Attributes:
        weekly_mg: point estimate (the midpoint when CPIC gives an adjustment range), None when CPIC
            says to dose clinically.
        weekly_range_mg: (low, high) after CPIC's percentage adjustments (equal when none applies).
    """

    weekly_mg: float | None
    weekly_range_mg: tuple[float, float] | None
    steps: list[str] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)

    @property
    def daily_mg(self) -> float | None:
        """Weekly dose / 7."""
        return None if self.weekly_mg is None else self.weekly_mg / 7

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(asdict(self), daily_mg=self.daily_mg)


def vkorc1_genotype(diplotype: str | None) -> str | None:
    """``GG``/``GA``/``AA`` at -1639 from a VKORC1 call (rs9923231 T on the plus strand is -1639 A)."""
    if not diplotype:
        return None
    parts = diplotype.split("/")
    if not all(p in (VKORC1_REF, VKORC1_VAR) for p in parts) or len(parts) != 2:
        return None
    return "".join(sorted("A" if p == VKORC1_VAR else "G" for p in parts)).replace("AG", "GA")


def iwpc_weekly_dose(
    age: float,
    height_cm: float,
    weight_kg: float,
    vkorc1: str | None,
    cyp2c9: str | None,
    race: str = "white",
    enzyme_inducer: bool = False,
    amiodarone: bool = False,
) -> tuple[float, list[str]]:
    """The IWPC pharmacogenetic algorithm: weekly dose (mg) and the terms used.

    Args:
        vkorc1: ``GG``, ``GA``, ``AA`` at -1639, or None (unknown).
        cyp2c9: ``*1/*1`` ... ``*3/*3`` (order free), or None (unknown). Other alleles raise.
        race: ``white``, ``asian``, ``black`` or ``mixed`` (missing or mixed).
    """
    if not (18 <= age <= 110 and 100 <= height_cm <= 230 and 30 <= weight_kg <= 250):
        raise InputError(
            f"age {age}, height {height_cm} cm, weight {weight_kg} kg is outside the adult range the "
            "algorithm was fitted on",
            where="warfarin inputs",
            hint="age 18-110 years, height 100-230 cm, weight 30-250 kg",
        )
    if race not in RACES:
        raise InputError(f"unknown race {race!r}", where="warfarin inputs", hint="one of " + ", ".join(RACES))
    terms = {"age_decades": int(age // 10), "height_cm": height_cm, "weight_kg": weight_kg}
    if vkorc1 is None:
        terms["vkorc1_unknown"] = 1
    elif vkorc1 in ("GA", "AG"):
        terms["vkorc1_GA"] = 1
    elif vkorc1 == "AA":
        terms["vkorc1_AA"] = 1
    elif vkorc1 != "GG":
        raise InputError(f"VKORC1 -1639 genotype {vkorc1!r}", where="warfarin inputs", hint="GG, GA or AA")
    if cyp2c9 is None:
        terms["cyp2c9_unknown"] = 1
    else:
        a = "/".join(sorted(cyp2c9.split("/")))
        if a != "*1/*1":
            if f"cyp2c9_{a}" not in IWPC:
                raise InputError(f"CYP2C9 {cyp2c9} is not a genotype of the IWPC algorithm", where="warfarin inputs")
            terms[f"cyp2c9_{a}"] = 1
    if race != "white":
        terms[f"race_{race}"] = 1
    if enzyme_inducer:
        terms["enzyme_inducer"] = 1
    if amiodarone:
        terms["amiodarone"] = 1
    root = IWPC_INTERCEPT + sum(IWPC[k] * v for k, v in terms.items())
    used = [f"{k}={v:g} x {IWPC[k]:+.4f}" for k, v in terms.items()]
    return root**2, [f"IWPC: sqrt(weekly dose) = 5.6044 {' '.join(used)} = {root:.4f}"]


def cpic_warfarin_dose(
    age: float,
    height_cm: float,
    weight_kg: float,
    vkorc1: str | None,
    cyp2c9: str | None,
    cyp4f2_star3_carrier: bool | None = None,
    african_ancestry: bool = False,
    race: str = "white",
    african_variants_tested: bool = False,
    rs12777823_a_carrier: bool | None = None,
    enzyme_inducer: bool = False,
    amiodarone: bool = False,
) -> WarfarinDose:
    """CPIC 2017 figure 2: the IWPC dose with CYP4F2 and African-ancestry adjustments.

    Args:
        cyp2c9: a diplotype such as ``*1/*3``; *5/*6/*8/*11 count as *1 in the equation and trigger
            CPIC's 15-30 % decrease.
        cyp4f2_star3_carrier: rs2108622 T carrier (None: not tested).
        african_ancestry: selects CPIC's African-ancestry branch.
        african_variants_tested: whether CYP2C9 *5, *6, *8, *11 were genotyped.
        rs12777823_a_carrier: for African Americans (None: not tested).
    """
    cautions: list[str] = []
    steps: list[str] = []
    if african_ancestry and not african_variants_tested:
        return WarfarinDose(
            None,
            None,
            ["CPIC 2017: African ancestry without CYP2C9 *5, *6, *8, *11 genotyping"],
            ["dose clinically: the pharmacogenetic algorithm is not recommended without those variants"],
        )
    african_carrier = False
    eq_cyp2c9 = cyp2c9
    if cyp2c9 is not None:
        parts = cyp2c9.split("/")
        african_carrier = any(p in AFRICAN_CYP2C9 for p in parts)
        other = [p for p in parts if p not in ("*1", "*2", "*3", *AFRICAN_CYP2C9)]
        if other:
            raise InputError(
                f"CYP2C9 {cyp2c9}: {', '.join(other)} has no term in the algorithm and no CPIC adjustment",
                where="warfarin inputs",
                hint="dose clinically and monitor INR closely",
            )
        eq_cyp2c9 = "/".join("*1" if p in AFRICAN_CYP2C9 else p for p in parts)
    weekly, s = iwpc_weekly_dose(age, height_cm, weight_kg, vkorc1, eq_cyp2c9, race, enzyme_inducer, amiodarone)
    steps += s + [f"IWPC weekly dose {weekly:.2f} mg"]
    lo_f = hi_f = 1.0
    if not african_ancestry and cyp4f2_star3_carrier:
        lo_f, hi_f = lo_f * 1.05, hi_f * 1.10
        steps.append("CYP4F2*3 carrier: increase by 5-10 %")
    if african_carrier:
        lo_f, hi_f = lo_f * 0.70, hi_f * 0.85
        steps.append("CYP2C9 *5/*6/*8/*11 carrier: decrease by 15-30 %")
    if african_ancestry and rs12777823_a_carrier:
        lo_f, hi_f = lo_f * 0.75, hi_f * 0.90
        steps.append("rs12777823 A carrier: decrease by 10-25 %")
    if vkorc1 is None or cyp2c9 is None:
        cautions.append("a gene was not determined: its 'unknown' term is used, which widens the error")
    if not african_ancestry and cyp4f2_star3_carrier is None:
        cautions.append("CYP4F2 not determined: the 5-10 % increase for *3 carriers could not be assessed")
    rng = (weekly * lo_f, weekly * hi_f)
    return WarfarinDose((rng[0] + rng[1]) / 2, rng, steps, cautions)
