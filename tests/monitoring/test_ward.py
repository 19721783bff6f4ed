"""Ward board rows: NEWS2 bands (RCP 2017) and the alert note when the alert's score is not the newest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def test_news2_bands_follow_the_chart():
    from theralab.monitoring.ward import news2_band

    assert [news2_band(x) for x in (None, 0, 1, 4, 5, 6, 7, 20)] == [
        None, "zero", "low", "low", "medium", "medium", "high", "high"]
    assert news2_band(3, single_parameter_three=True) == "low-medium"
    assert news2_band(6, single_parameter_three=True) == "medium"  # the aggregate band already covers it


def test_board_explains_an_alert_raised_at_another_score(tl_env):
    """Issue 22: the board showed NEWS2 12 beside an inbox alert saying NEWS2 10, with no explanation."""
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.monitoring.streams import Ingestor, parse_payload, register_device
    from theralab.monitoring.streams.tables import Device
    from theralab.monitoring.ward import ward
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        patient = {"resourceType": "Patient", "id": "p-1", "name": [{"family": "Okafor", "given": ["Ada"]}]}
        import_resources([patient], s)
        register_device(s, "bed-3", "p-1", location="Ward 7A, bed 3")
    with session_scope() as s:
        device = s.get(Device, "bed-3")
        s.expunge(device)
    now = datetime.now(UTC).replace(microsecond=0)
    ingestor = Ingestor()
    for minutes, vitals in ((20, (21, 94, 105, 112, 38.4)), (5, (26, 91, 95, 125, 38.9))):
        at = (now - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
        codes = ("9279-1", "2708-6", "8480-6", "8867-4", "8310-5")
        readings = [{"code": c, "value": v, "at": at} for c, v in zip(codes, vitals, strict=True)]
        payload = {"device_id": "bed-3", "readings": readings}
        ingestor.ingest(parse_payload(payload, "bed-3"), device=device, now=now - timedelta(minutes=minutes - 1))
    with session_scope() as s:
        (row,) = ward(s)
    assert (row["name"], row["location"], row["band"]) == ("Ada Okafor", "Ward 7A, bed 3", "high")
    assert row["news2"] == 11 and row["change"] == 4 and [p["v"] for p in row["trend"]] == [7.0, 11.0]
    note = row["alert_note"]
    assert note["raised_news2"] == 7 and note["text"].startswith("alert raised at NEWS2 7 at ")
    assert note["text"].split("; ")[1].startswith("now 11")
