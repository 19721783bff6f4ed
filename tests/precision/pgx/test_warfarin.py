"""Warfarin by CPIC 2017: the IWPC equation, CPIC's adjustments, and the report wiring.

Sources of the expected values:
* IWPC coefficients: IWPC, N Engl J Med 2009;360:753-764, supplementary appendix (pharmacogenetic
  algorithm); the expected doses below are worked by hand from those coefficients (shown inline).
* Label anchors: the genotype-dose ranges of the US warfarin label, reproduced as table 2 of the CPIC
  2011 warfarin guideline (Johnson et al., Clin Pharmacol Ther 2011;90:625): VKORC1 GG + CYP2C9
  *1/*1 -> 5-7 mg/day, VKORC1 AA + *1/*1 -> 3-4 mg/day, AA + *3/*3 -> 0.5-2 mg/day.
* Adjustments: CPIC 2017 (Johnson et al., Clin Pharmacol Ther 2017;102:397) figure 2: CYP4F2*3
  +5-10 %; African ancestry: CYP2C9 *5/*6/*8/*11 carriers -15-30 %, rs12777823 A -10-25 %, dose
  clinically when those variants were not tested.
"""

from __future__ import annotations

import pytest

from theralab.errors import InputError
from theralab.precision.pgx.phenotype import phenotype_for
from theralab.precision.pgx.recommend import drug_view
from theralab.precision.pgx.warfarin import cpic_warfarin_dose, iwpc_weekly_dose, vkorc1_genotype
from theralab.precision.pgx.warfarin_report import cyp4f2_star3_carrier, warfarin_from_report

ADULT = {"age": 60, "height_cm": 170, "weight_kg": 70}


def test_iwpc_hand_worked_examples() -> None:
    # 5.6044 - 0.2614*6 + 0.0087*170 + 0.0128*70 - 0.8677 = 5.5433 -> 30.728 mg/week
    w, steps = iwpc_weekly_dose(60, 170, 70, "GA", "*1/*1")
    assert w == pytest.approx(5.5433**2, abs=1e-3) and "5.5433" in steps[0]
    # 75 y, 160 cm, 60 kg, AA, *1/*3, Asian, amiodarone:
    # 5.6044 - 1.8298 + 1.392 + 0.768 - 1.6974 - 0.9357 - 0.1092 - 0.5503 = 2.6420 -> 6.980 mg/week
    w2, _ = iwpc_weekly_dose(75, 160, 60, "AA", "*3/*1", race="asian", amiodarone=True)
    assert w2 == pytest.approx(2.6420**2, abs=1e-3)
    # unknown genotypes use IWPC's own "unknown" terms: 5.5433 + 0.8677 - 0.4854 - 0.2188 = 5.7068
    w3, _ = iwpc_weekly_dose(60, 170, 70, None, None)
    assert w3 == pytest.approx(5.7068**2, abs=1e-3)


@pytest.mark.parametrize(
    ("vkorc1", "cyp2c9", "lo", "hi"),
    [("GG", "*1/*1", 5, 7), ("AA", "*1/*1", 3, 4), ("AA", "*3/*3", 0.5, 2)],
)
def test_label_table_anchors(vkorc1: str, cyp2c9: str, lo: float, hi: float) -> None:
    w, _ = iwpc_weekly_dose(60, 170, 70, vkorc1, cyp2c9)
    assert lo <= w / 7 <= hi


def test_cpic_2017_adjustments() -> None:
    base = 5.5433**2
    d = cpic_warfarin_dose(vkorc1="GA", cyp2c9="*1/*1", cyp4f2_star3_carrier=True, **ADULT)
    assert d.weekly_range_mg == pytest.approx((base * 1.05, base * 1.10), abs=1e-2)
    assert d.weekly_mg == pytest.approx(base * 1.075, abs=1e-2)
    untested = cpic_warfarin_dose(vkorc1="GA", cyp2c9="*1/*1", african_ancestry=True, race="black", **ADULT)
    assert untested.weekly_mg is None
    # African ancestry, *1/*8, rs12777823 A: the *8 counts as *1 in the equation (root 5.5433 - 0.2760)
    a = cpic_warfarin_dose(
        vkorc1="GA", cyp2c9="*1/*8", african_ancestry=True, race="black", african_variants_tested=True,
        rs12777823_a_carrier=True, **ADULT,
    )
    b = 5.2673**2
    assert a.weekly_range_mg == pytest.approx((b * 0.70 * 0.75, b * 0.85 * 0.90), abs=1e-2)
    with pytest.raises(InputError):
        cpic_warfarin_dose(vkorc1="GA", cyp2c9="*1/*9", **ADULT)
    with pytest.raises(InputError):
        iwpc_weekly_dose(8, 120, 25, "GG", "*1/*1")


def test_report_genotypes_and_drug_view() -> None:
    assert vkorc1_genotype("rs9923231 variant (T)/rs9923231 variant (T)") == "AA"
    assert vkorc1_genotype("rs9923231 reference (C)/rs9923231 variant (T)") == "GA"
    assert cyp4f2_star3_carrier("*1/*3") is True and cyp4f2_star3_carrier("*1/*1") is False
    vk = "rs9923231 variant (T)/rs9923231 variant (T)"
    phen = {"VKORC1": phenotype_for("VKORC1", vk), "CYP2C9": phenotype_for("CYP2C9", "*1/*1"),
            "CYP4F2": phenotype_for("CYP4F2", "*1/*1")}
    view = drug_view("warfarin", phen)
    assert view["status"] == "action needed" and any("pgx warfarin" in a for a in view["advice"])
    body = {"genes": {g: {"phenotype": p.to_dict(), "call": {"not_excluded": []}} for g, p in phen.items()}}
    d = warfarin_from_report(body, age=60, height_cm=170, weight_kg=70)
    assert d.weekly_mg == pytest.approx((5.5433 + 0.8677 - 1.6974) ** 2, abs=1e-2) and not d.cautions
    body["genes"].pop("CYP4F2")
    assert any("CYP4F2 not determined" in c for c in warfarin_from_report(body, **ADULT).cautions)
