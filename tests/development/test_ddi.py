"""FDA basic static models, the mechanistic static model and the medication-list screen."""

from __future__ import annotations

import pytest

from theralab.development.ddi import (
    PERPETRATORS,
    VICTIMS,
    Perpetrator,
    basic_model,
    check_medications,
    igut_um,
    mechanistic_aucr,
    r1,
    r2,
    r3,
)
from theralab.errors import InputError, NotFoundError


def test_basic_model_formulas_and_cutoffs() -> None:
    assert r1(0.02, 1.0) == pytest.approx(1.02)
    assert basic_model(Perpetrator("x", "CYP2D6", imax_u=0.02, ki_u=1.0)).flags  # 1.02 is flagged (>=)
    assert not basic_model(Perpetrator("x", "CYP2D6", imax_u=0.019, ki_u=1.0)).flags
    # R2 = (kobs + kdeg)/kdeg with kobs = kinact 5 Imax / (KI + 5 Imax)
    assert r2(1.0, 5.0, 2.0, 0.02) == pytest.approx((2.0 * 5 / 10 + 0.02) / 0.02)
    # R3 = 1/(1 + Emax 10 I / (EC50 + 10 I))
    assert r3(1.0, 4.0, 10.0) == pytest.approx(1 / (1 + 4 * 10 / 20))
    assert igut_um(250.0, 500.0) == pytest.approx(2000.0)  # 0.5 mmol in 0.25 L = 2 mM


def test_mechanistic_static_model_limits() -> None:
    p = Perpetrator("x", "CYP2C9", imax_u=1.0, ki_u=1.0)  # [I]/Ki = 1 -> C = 0.5
    assert mechanistic_aucr(p, fm=1.0) == pytest.approx(2.0)
    assert mechanistic_aucr(p, fm=0.0) == pytest.approx(1.0)
    assert mechanistic_aucr(p, fm=0.5) == pytest.approx(1 / (0.25 + 0.5))
    ind = Perpetrator("y", "CYP2C9", imax_u=1.0, emax=9.0, ec50_u=1.0)  # B = 1 + 9/2 = 5.5
    assert mechanistic_aucr(ind, fm=1.0) == pytest.approx(1 / 5.5)
    gut = Perpetrator("z", "CYP3A4", imax_u=1.0, ki_u=1.0)
    assert mechanistic_aucr(gut, fm=1.0, fg=0.5, i_gut=1.0) == pytest.approx(2.0 * 1 / (0.5 * 0.5 + 0.5))


def test_medication_list_flags_textbook_pairs() -> None:
    res = check_medications(
        ["Ketoconazole", "midazolam", "rifampicin", "aspirin", "quinidine", "desipramine"]
    )
    flagged = {(r["perpetrator"], r["victim"]) for r in res["flagged"]}
    assert {
        ("ketoconazole", "midazolam"),
        ("rifampicin", "midazolam"),
        ("quinidine", "desipramine"),
    } <= flagged
    assert res["unknown"] == ["aspirin"]
    keto = next(r for r in res["pairs"] if r["perpetrator"] == "ketoconazole")
    assert keto["aucr"] > 5 and keto["direction"] == "increase"  # observed ~10-16 fold
    rif = next(r for r in res["pairs"] if r["perpetrator"] == "rifampicin")
    assert rif["aucr"] < 0.2 and rif["direction"] == "decrease"  # observed ~0.05-0.1
    assert all(r["sources"][0] and r["sources"][1] for r in res["pairs"])


def test_no_shared_enzyme_no_pair() -> None:
    res = check_medications(["quinidine", "midazolam"])
    assert res["pairs"] == [] and res["flagged"] == []


def test_every_table_entry_names_a_source() -> None:
    assert all(p.source for p in PERPETRATORS) and all(v.source for v in VICTIMS)


def test_bad_input() -> None:
    with pytest.raises(InputError):
        check_medications(["midazolam"])
    with pytest.raises(NotFoundError):
        check_medications(["foo", "bar"])
    with pytest.raises(InputError):
        r1(0.0, 1.0)
    with pytest.raises(InputError):
        Perpetrator("x", "CYP3A4", imax_u=1.0, kinact=1.0)  # KI missing


def test_user_table_overrides_and_extends(tmp_path) -> None:  # noqa: ANN001
    from theralab.development.ddi import read_table

    f = tmp_path / "table.csv"
    f.write_text(
        "role,drug,enzyme,imax_u,ki_u,fm,fg,source\n"
        "perpetrator,newdrug,CYP2C19,2.0,0.5,,,in-house assay 2024\n"
        "victim,omeprazole,CYP2C19,,,0.87,,label\n"
        "victim,midazolam,CYP3A4,,,0.5,1.0,hypothetical override\n"
    )
    perps, vics = read_table(f)
    res = check_medications(
        ["newdrug", "omeprazole", "ketoconazole", "midazolam"], perps + PERPETRATORS, vics + VICTIMS
    )
    pair = next(r for r in res["pairs"] if r["perpetrator"] == "newdrug")
    assert pair["aucr"] == pytest.approx(1 / (0.87 / 5 + 0.13))  # [I]/Ki = 4 -> C = 1/5
    keto = [r for r in res["pairs"] if r["perpetrator"] == "ketoconazole"]
    assert len(keto) == 1 and keto[0]["sources"][1] == "hypothetical override"
    bad = tmp_path / "bad.csv"
    bad.write_text("role,drug,enzyme,fm\nvictim,x,CYP3A4,1.5\n")
    with pytest.raises(InputError) as exc:
        read_table(bad)
    assert exc.value.where == "bad.csv row 2"
