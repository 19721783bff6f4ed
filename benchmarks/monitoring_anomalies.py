"""Alert burden of personal resting-heart-rate detection on the Fitbit participant (wearable/).

Compares, in the same run, the naive detector (hourly RHR z-scored against the whole record,
CUSUM k=0.5, h=5, no time of day) with theralab's default (time-of-day trailing baseline,
CUSUM with a decision limit calibrated on the first 28 days to an alert budget) and the
multivariate streaming detector (hourly HR and steps residuals, Mahalanobis), and reports
alert-days per person-month. The budgeted detector is scored only on days after calibration.

    python benchmarks/monitoring_anomalies.py --data ../shared/data/monitoring/wearable
    python benchmarks/monitoring_anomalies.py --budgets 1 2 4
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "monitoring" / "wearable"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--participant", default="A4G0044")
    ap.add_argument(
        "--budgets",
        type=float,
        nargs="*",
        default=[1.0, 2.0, 4.0],
        help="alert-days per 30 days allowed on the calibration period",
    )
    args = ap.parse_args()

    from theralab.monitoring.anomalies import load_fitbit, multivariate_alerts, naive_cusum_alert_days, rhr_alerts

    m = load_fitbit(args.data / f"{args.participant}_hr.csv.zip", args.data / f"{args.participant}_steps.csv.zip")
    days = m.index.normalize().nunique()
    print(f"participant {args.participant}: {len(m):,} minutes over {days} days")
    n, d = naive_cusum_alert_days(m)
    print(f"naive CUSUM (whole-record z, k=0.5, h=5): {n} alert-days of {d} -> {30 * n / d:.1f} per person-month")
    for b in args.budgets:
        r = rhr_alerts(m, budget_per_month=b)
        print(
            f"theralab default, budget {b:g}/month: h={r.threshold:.1f}, {len(r.alert_days)} alert-days of "
            f"{r.monitored_days} monitored days after {r.calibration_days} calibration days -> "
            f"{r.alert_days_per_month:.2f} per person-month; days {', '.join(r.alert_days) or '-'}"
        )
    for b in args.budgets:
        alerts, n_days, thr = multivariate_alerts(m, budget_per_month=b)
        print(
            f"multivariate (HR and steps residuals, streaming Mahalanobis), budget {b:g}/month: threshold "
            f"{thr:.1f}, {len(alerts)} alert-days of {n_days} -> {30 * len(alerts) / n_days:.2f} per person-month; "
            f"days {', '.join(alerts) or '-'}"
        )


if __name__ == "__main__":
    main()
