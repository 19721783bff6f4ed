"""Trial safety screening raises deduplicated alerts in the shared store."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from theralab.runtime.alerts import Alert
from theralab.runtime.db import session_scope
from theralab.trials.safety.monitor import screen_reports


def _reports() -> pd.DataFrame:
    rows, rid = [], 0
    # drug X with liver injury in 20 of 100 reports; background rate 1% across 1,000 other reports
    for i in range(100):
        rid += 1
        rows.append((rid, "X", "liver injury" if i < 20 else "headache"))
    for i in range(1000):
        rid += 1
        rows.append((rid, "Y", "liver injury" if i < 10 else "headache"))
    return pd.DataFrame(rows, columns=["id", "drug", "event"])


def test_signals_become_alerts_once(tl_env_any_db):
    with session_scope() as session:
        table = screen_reports(session, _reports(), "NCT-1")
    top = table.iloc[0]
    assert (top.drug, top.event, int(top.a)) == ("X", "liver injury", 20)
    assert top.PRR == 20.0 and bool(top.evans_signal)
    assert table["evans_signal"].sum() == 1
    with session_scope() as session:
        screen_reports(session, _reports(), "NCT-1")  # the same data again: folded, not a new alert
        alerts = list(session.scalars(select(Alert)))
    assert len(alerts) == 1 and alerts[0].count == 2 and alerts[0].severity == "high"
    assert alerts[0].domain == "trials" and alerts[0].evidence[0]["a"] == 20
