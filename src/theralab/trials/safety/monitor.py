"""Trial safety monitoring: screen adverse-event reports for disproportionality signals and raise
alerts in the shared alert store (deduplicated per trial, drug and event; owned, acknowledged and
escalated like every other alert, with an audit trail).

A pair is a signal by the Evans criteria (PRR >= 2, Yates chi-square >= 4, at least 3 reports);
severity is ``high`` when the BCPNN IC025 is also above 0, else ``medium``.

The latest screen of each trial is kept (``<data dir>/safety/``, one CSV per trial) so the safety
dashboard shows the signal table and its disproportionality plot on every visit, not only right
after an upload: :func:`last_screen` reads it back, :func:`screened_trials` lists the trials.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
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
    """Pair counts, PRR/ROR/IC per drug-event pair, and alerts for Evans signals; returns the table.

    The table is also kept as the trial's latest screen (:func:`last_screen`).
    """
    table = signal_table(reports, id_col=id_col, drug_col=drug_col, event_col=event_col)
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
    table = table.sort_values(["evans_signal", "PRR"], ascending=[False, False]).reset_index(drop=True)
    keep_screen(trial_id, table)
    return table


def signal_table(reports: pd.DataFrame, *, id_col: str = "id", drug_col: str = "drug",
                 event_col: str = "event") -> pd.DataFrame:
    """Pair counts and PRR/ROR/IC (with CIs) and the Evans flag per drug-event pair; no alerts."""
    pairs = count_pairs(reports, id_col=id_col, drug_col=drug_col, event_col=event_col)
    pairs = pairs[(pairs["b"] + pairs["a"] > 0) & (pairs["c"] + pairs["d"] > 0) & (pairs["b"] + pairs["d"] > 0)]
    stats = disproportionality(pairs["a"], pairs["b"], pairs["c"], pairs["d"])
    table = pd.concat([pairs[["drug", "event"]].reset_index(drop=True),
                       stats.drop(columns=["a", "b", "c", "d", "E"])], axis=1)
    table.insert(2, "a", pairs["a"].to_numpy())
    return table


def _screens_dir() -> Path:
    from theralab.settings import get_settings

    return Path(get_settings().data_dir) / "safety"


def _screen_file(trial_id: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", trial_id)[:60] or "trial"
    return _screens_dir() / f"{slug}-{hashlib.sha256(trial_id.encode()).hexdigest()[:10]}.csv"


def keep_screen(trial_id: str, table: pd.DataFrame) -> Path:
    """Keep ``table`` as the latest screen of ``trial_id`` and note it in the folder's index."""
    path = _screen_file(trial_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    index_path = path.parent / "index.json"
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    index[trial_id] = {"file": path.name, "screened_at": datetime.now(UTC).isoformat(), "pairs": len(table),
                       "signals": int(table["evans_signal"].sum()) if "evans_signal" in table else 0}
    index_path.write_text(json.dumps(index, indent=2))
    return path


def screened_trials() -> dict[str, dict[str, Any]]:
    """Trials with a kept screen: trial id → ``{file, screened_at, pairs, signals}``."""
    index_path = _screens_dir() / "index.json"
    return json.loads(index_path.read_text()) if index_path.is_file() else {}


def last_screen(trial_id: str) -> pd.DataFrame | None:
    """The latest screen of ``trial_id`` (as :func:`screen_reports` returned it), or None."""
    path = _screen_file(trial_id)
    return pd.read_csv(path) if path.is_file() else None
