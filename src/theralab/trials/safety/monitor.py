"""Trial safety monitoring: screen adverse-event reports for disproportionality signals and raise
alerts in the shared alert store (deduplicated per trial, drug and event; owned, acknowledged and
escalated like every other alert, with an audit trail).

A pair is a signal by the Evans criteria (PRR >= 2, Yates chi-square >= 4, at least 3 reports);
severity is ``high`` when the BCPNN IC025 is also above 0, else ``medium``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from theralab.runtime.alerts import raise_alert
from theralab.trials.safety.signals import count_pairs, disproportionality


def screen_reports(
    session: Session,
    reports: pd.DataFrame,
    trial_id: str,
    *,
    id_col: str = "id",
    drug_col: str = "drug",
    event_col: str = "event",
) -> pd.DataFrame:
    """Pair counts, PRR/ROR/IC per drug-event pair, and alerts for Evans signals; returns the table."""
    pairs = count_pairs(reports, id_col=id_col, drug_col=drug_col, event_col=event_col)
    pairs = pairs[(pairs["b"] + pairs["a"] > 0) & (pairs["c"] + pairs["d"] > 0) & (pairs["b"] + pairs["d"] > 0)]
    stats = disproportionality(pairs["a"], pairs["b"], pairs["c"], pairs["d"])
    table = pd.concat([pairs[["drug", "event"]].reset_index(drop=True),
                       stats.drop(columns=["a", "b", "c", "d", "E"])], axis=1)
    table.insert(2, "a", pairs["a"].to_numpy())
    alert_ids: list[Any] = []
    for row in table.itertuples(index=False):
        if not row.evans_signal:
            alert_ids.append(None)
            continue
        severity = "high" if row.IC025 > 0 else "medium"
        alert, _new = raise_alert(
            session, domain="trials", subject=trial_id, rule="disproportionality", severity=severity,
            title=f"{row.drug} × {row.event}: PRR {row.PRR:.2f} ({row.PRR_lo:.2f}-{row.PRR_hi:.2f}), "
                  f"{int(row.a)} reports, IC025 {row.IC025:.2f}",
            evidence={"drug": str(row.drug), "event": str(row.event), "a": int(row.a), "PRR": float(row.PRR),
                      "chi2_yates": float(row.chi2_yates), "IC025": float(row.IC025)},
            dedup_key=f"trials:{trial_id}:{row.drug}:{row.event}",
        )
        alert_ids.append(alert.id)
    table["alert_id"] = alert_ids
    return table.sort_values(["evans_signal", "PRR"], ascending=[False, False]).reset_index(drop=True)
