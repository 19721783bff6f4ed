"""The demo fills the clinical pages with real data made by the features themselves, and loads twice safely."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select


def _counts() -> dict[str, int]:
    from theralab.ehr import tables as store
    from theralab.monitoring.streams.store import is_streamed
    from theralab.monitoring.streams.tables import Device
    from theralab.runtime.alerts import Alert
    from theralab.runtime.db import session_scope
    from theralab.trials.tables import CriteriaVersionRow

    with session_scope() as s:
        streamed = int(s.scalar(select(func.count()).select_from(store.ObservationRow).where(is_streamed())) or 0)
        counts = {name: int(s.scalar(select(func.count()).select_from(model)) or 0) for name, model in (
            ("devices", Device), ("alerts", Alert), ("allergies", store.AllergyRow),
            ("genotypes", store.GenotypeRow), ("criteria", CriteriaVersionRow))}
    return {"readings": streamed, **counts}


def test_demo_fills_ward_pgx_trials_and_safety_and_is_idempotent(tl_env):
    from theralab.demo import load_demo
    from theralab.monitoring.ward import ward
    from theralab.runtime.alerts import Alert
    from theralab.runtime.db import session_scope

    now = datetime.now(UTC)
    report = load_demo(patients=12)
    assert "8 bedside devices" in report["ward"] and "3 trials" in report["trials"]
    first = _counts()
    assert first["devices"] == 8 and first["readings"] > 8 * 40 * 6 and first["allergies"] == 4
    assert first["criteria"] == 3

    again = load_demo(patients=12)
    assert _counts() == first or (
        # a 15-minute time point may have passed between the loads: only that one is new
        _counts()["readings"] - first["readings"] <= 8 * 7 and _counts()["alerts"] == first["alerts"])
    assert "already stored" in again["ward"] and "(0 new)" in again["trials"]

    with session_scope() as s:
        rows = ward(s, now=now)
        safety = s.scalars(select(Alert).where(Alert.domain == "trials")).all()
    worst = rows[0]
    assert worst["band"] == "high" and worst["news2"] >= 7 and worst["worst_severity"] == "high"
    assert worst["name"] and worst["location"].startswith("Ward 7A, bed")
    assert worst["trend"][0]["v"] < worst["news2"]  # it rose over the last hours
    # the alert was raised (as high) at a lower score than the newest: the row says so
    assert worst["alert_note"]["raised_news2"] >= 7 and "alert raised at NEWS2" in worst["alert_note"]["text"]
    assert {r["band"] for r in rows} >= {"high", "zero"}
    assert {a.title.split(":")[0] for a in safety} == {"theralumab × Drug-induced liver injury",
                                                        "demoxetine × Electrocardiogram QT prolonged"}


def test_demo_pgx_calls_come_from_the_caller_and_agree_with_the_record(tl_env):
    """The VCF the demo writes encodes each ward patient's diplotypes; the caller gets them back."""
    from theralab.demo import load_demo
    from theralab.ehr import tables as store
    from theralab.runtime.db import session_scope

    load_demo(patients=10)
    with session_scope() as s:
        rows = s.scalars(select(store.GenotypeRow)).all()
    vcf = {(r.patient_id, r.gene): r.diplotype for r in rows if r.source == "vcf"}
    record = {(r.patient_id, r.gene): r.diplotype for r in rows if r.source.startswith("synthetic")}
    assert len(vcf) == 8 * 3
    assert all(vcf[key] == record[key] for key in vcf)


def test_demo_vcf_encodes_star_alleles_the_caller_reads(tmp_path):
    from theralab.demo.clinical import write_pgx_vcf
    from theralab.precision.pgx.report import call_vcf

    path = write_pgx_vcf(tmp_path / "x.vcf", {"S1": {"CYP2C19": ("*2", "*17"), "CYP2C9": ("*1", "*3")},
                                              "S2": {"SLCO1B1": ("*5", "*15")}})
    calls = {r.sample: {g: c.diplotypes[0].name for g, c in r.calls.items() if c.called}
             for r in call_vcf(path, all_samples=True, genes=("CYP2C19", "CYP2C9", "SLCO1B1"))}
    assert calls["S1"]["CYP2C19"] == "*2/*17" and calls["S1"]["CYP2C9"] == "*1/*3"
    assert calls["S2"]["SLCO1B1"] == "*5/*15" and calls["S2"]["CYP2C19"] == "*1/*1"
