"""Trial safety monitoring: signal detection, sequential surveillance and lab rules.

Public API (re-exported from :mod:`theralab.trials.safety.signals` and
:mod:`theralab.trials.safety.sequential`):

* disproportionality (PRR/ROR/IC, Evans criteria) and MGPS/EBGM for report data;
* Wald SPRT, Poisson MaxSPRT with exact critical values, CUSUM for streams;
* :func:`hys_law` -- the FDA (2009) drug-induced liver injury screen;
* :func:`signals_from_disproportionality` -- :class:`SafetySignal` objects (with ``to_dict``) that the
  alerts service stores, deduplicates and escalates. Storage is not done here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from theralab.errors import InputError
from theralab.trials.records import Record
from theralab.trials.safety.sequential import (  # noqa: F401  (re-exported)
    SequentialSignal,
    cusum,
    cusum_bernoulli,
    maxsprt_alpha,
    maxsprt_critical_value,
    maxsprt_llr,
    maxsprt_poisson,
    sprt_binomial,
    sprt_binomial_lines,
    sprt_bounds,
    sprt_poisson,
)
from theralab.trials.safety.signals import (  # noqa: F401  (re-exported)
    GammaMixturePrior,
    count_pairs,
    disproportionality,
    fit_prior,
    mgps,
    neg_log_lik,
    posterior,
    squash,
)


@dataclass(frozen=True)
class SafetySignal(Record):
    """A safety finding for the alerts service: what, how strong, by which rule, on what evidence."""

    kind: str  # "disproportionality", "mgps", "sequential", "hys_law"
    key: str  # stable deduplication key, e.g. "drug|event" or "subject|hys_law"
    severity: str  # "info", "warning", "critical"
    message: str
    metrics: dict = field(default_factory=dict)
    subject: str | None = None
    trial: str | None = None


def signals_from_disproportionality(table: pd.DataFrame, *, trial: str | None = None) -> list[SafetySignal]:
    """Turn the rows of a pair table (``drug``, ``event`` + disproportionality columns) meeting the
    Evans criteria into signals; IC025 > 0 as well raises the severity to critical."""
    need = {"drug", "event", "PRR", "chi2_yates", "a", "IC025", "evans_signal"}
    missing = need - set(table.columns)
    if missing:
        raise InputError(f"missing columns {sorted(missing)}", where="table")
    out = []
    for row in table[table.evans_signal].itertuples(index=False):
        sev = "critical" if row.IC025 > 0 else "warning"
        out.append(
            SafetySignal(
                "disproportionality",
                f"{row.drug}|{row.event}",
                sev,
                f"{row.drug} / {row.event}: PRR {row.PRR:.2f}, chi2 {row.chi2_yates:.1f}, n={int(row.a)}, "
                f"IC025 {row.IC025:.2f}",
                {k: float(getattr(row, k)) for k in ("a", "PRR", "chi2_yates", "IC025")},
                trial=trial,
            )
        )
    return out


def disproportionality_pairs(
    reports: pd.DataFrame,
    *,
    id_col: str = "id",
    drug_col: str = "var1",
    event_col: str = "var2",
    min_count: int = 1,
    add: float = 0.5,
) -> pd.DataFrame:
    """Disproportionality for every observed (drug, event) pair of a report-level table."""
    pairs = count_pairs(reports, id_col=id_col, drug_col=drug_col, event_col=event_col)
    pairs = pairs[pairs.a >= min_count].reset_index(drop=True)
    stats = disproportionality(pairs.a, pairs.b, pairs.c, pairs.d, add=add)
    out = pd.concat([pairs[["drug", "event"]], stats], axis=1)
    return out.sort_values(["evans_signal", "PRR"], ascending=False, kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------- Hy's law
HY_TESTS = {"ALT", "AST", "BILI", "ALP"}


@dataclass(frozen=True)
class HysLawCase(Record):
    """One subject meeting (or approaching) Hy's law."""

    subject: str
    category: str  # "potential_hys_law", "hepatocellular_injury" (ALT/AST > 3 ULN only)
    peak_transaminase_xuln: float
    peak_bilirubin_xuln: float
    alp_xuln_at_peak: float | None
    transaminase_time: float | str | None
    bilirubin_time: float | str | None

    def to_signal(self, trial: str | None = None) -> SafetySignal:
        sev = "critical" if self.category == "potential_hys_law" else "warning"
        msg = (
            f"subject {self.subject}: {self.category.replace('_', ' ')} "
            f"(ALT/AST {self.peak_transaminase_xuln:.1f}xULN, bilirubin {self.peak_bilirubin_xuln:.1f}xULN)"
        )
        return SafetySignal("hys_law", f"{self.subject}|{self.category}", sev, msg, asdict(self), self.subject, trial)


def hys_law(
    labs: pd.DataFrame,
    *,
    window: float = 30.0,
    subject_col: str = "subject",
    test_col: str = "test",
    value_col: str = "value",
    uln_col: str = "uln",
    time_col: str = "time",
) -> list[HysLawCase]:
    """Screen lab results for Hy's law (FDA guidance, Drug-Induced Liver Injury, 2009).

    Potential Hy's law: ALT or AST > 3 x ULN **and** total bilirubin > 2 x ULN within ``window``
    time units of each other, **without** cholestasis (ALP < 2 x ULN at the transaminase peak
    window). Subjects with only ALT/AST > 3 x ULN are returned as ``hepatocellular_injury``.

    Args:
        labs: long table with subject, test (ALT, AST, BILI, ALP), value, ULN and time (numeric
            days or datetimes).
    """
    for col in (subject_col, test_col, value_col, uln_col, time_col):
        if col not in labs.columns:
            raise InputError(f"lab table lacks column {col!r}", where=col)
    df = labs[[subject_col, test_col, value_col, uln_col, time_col]].copy()
    df.columns = ["subject", "test", "value", "uln", "time"]
    df["test"] = df["test"].astype(str).str.upper().replace({"TBILI": "BILI", "BILIRUBIN": "BILI"})
    if (df["uln"] <= 0).any():
        i = int(np.argmax((df["uln"] <= 0).to_numpy()))
        raise InputError("upper limit of normal must be positive", where=f"row {i}")
    df["x"] = df["value"] / df["uln"]
    if np.issubdtype(df["time"].dtype, np.datetime64):
        df["t"] = (df["time"] - df["time"].min()).dt.total_seconds() / 86400
    else:
        df["t"] = pd.to_numeric(df["time"], errors="raise")
    cases = []
    for subj, g in df.groupby("subject", sort=True):
        tx = g[g.test.isin(["ALT", "AST"]) & (g.x > 3)]
        if tx.empty:
            continue
        bili = g[(g.test == "BILI") & (g.x > 2)]
        alp = g[g.test == "ALP"]
        best = None
        for r in tx.itertuples():
            near = bili[(bili.t - r.t).abs() <= window]
            if near.empty:
                continue
            alp_near = alp[(alp.t - r.t).abs() <= window]
            alp_x = float(alp_near.x.max()) if not alp_near.empty else None
            if alp_x is not None and alp_x >= 2:
                continue  # cholestatic pattern: not Hy's law
            b = near.loc[near.x.idxmax()]
            if best is None or r.x > best[0]:
                best = (r.x, float(b.x), alp_x, r.time, b.time)
        if best is not None:
            cases.append(HysLawCase(str(subj), "potential_hys_law", float(best[0]), best[1], best[2], best[3], best[4]))
        else:
            peak = tx.loc[tx.x.idxmax()]
            bmax = g[g.test == "BILI"].x.max() if (g.test == "BILI").any() else float("nan")
            cases.append(
                HysLawCase(str(subj), "hepatocellular_injury", float(peak.x), float(bmax), None, peak.time, None)
            )
    return cases


# ---------------------------------------------------------------------------- DMC interim report
def ae_incidence(
    ae: pd.DataFrame,
    *,
    n_by_arm: dict[str, int] | None = None,
    subject_col: str = "subject",
    arm_col: str = "arm",
    term_col: str = "term",
) -> pd.DataFrame:
    """Subjects with each adverse-event term by arm (each subject counted once per term).

    With exactly two arms, adds the risk difference (first arm minus second, in sorted order) and a
    two-sided Fisher exact p-value -- unadjusted, for screening by the committee, not for inference.

    Args:
        n_by_arm: randomised subjects per arm (the denominators). If omitted, subjects appearing in
            the AE table are used, which overstates incidence; the report says so.
    """
    from scipy.stats import fisher_exact

    for col in (subject_col, arm_col, term_col):
        if col not in ae.columns:
            raise InputError(f"AE table lacks column {col!r}", where=col)
    df = ae[[subject_col, arm_col, term_col]].dropna().astype(str)
    arms = sorted(df[arm_col].unique()) if n_by_arm is None else sorted(n_by_arm)
    denom = n_by_arm or df.groupby(arm_col)[subject_col].nunique().to_dict()
    unknown = set(df[arm_col]) - set(arms)
    if unknown:
        raise InputError(f"AE rows for arms {sorted(unknown)} not in n_by_arm", where=arm_col)
    counts = df.drop_duplicates().groupby([term_col, arm_col])[subject_col].nunique().unstack(fill_value=0)
    counts = counts.reindex(columns=arms, fill_value=0)
    out = pd.DataFrame({"term": counts.index})
    for arm in arms:
        n = int(denom[arm])
        if n <= 0 or (counts[arm] > n).any():
            raise InputError(f"arm {arm!r}: denominator {n} is smaller than the subjects with events", where=arm)
        out[f"{arm} n"] = counts[arm].to_numpy()
        out[f"{arm} %"] = 100 * counts[arm].to_numpy() / n
    if len(arms) == 2:
        a, b = arms
        na, nb = int(denom[a]), int(denom[b])
        out["risk_difference_%"] = out[f"{a} %"] - out[f"{b} %"]
        out["fisher_p"] = [
            fisher_exact([[x, na - x], [y, nb - y]])[1] for x, y in zip(out[f"{a} n"], out[f"{b} n"], strict=True)
        ]
    return out.sort_values(f"{arms[0]} n", ascending=False, kind="stable").reset_index(drop=True)


def interim_safety_report(
    ae: pd.DataFrame,
    *,
    trial: str,
    n_by_arm: dict[str, int] | None = None,
    labs: pd.DataFrame | None = None,
    signals: list[SafetySignal] | None = None,
    data_cutoff: str | None = None,
) -> str:
    """A self-contained HTML interim safety report for a data monitoring committee.

    Sections: denominators, AE incidence by arm (with unadjusted Fisher p for two arms), Hy's law
    screen of the labs (if given), and any further signals passed in (e.g. MaxSPRT or
    disproportionality findings). Print to PDF from a browser if a PDF is required.
    """
    import html

    inc = ae_incidence(ae, n_by_arm=n_by_arm)
    cases = hys_law(labs) if labs is not None else []
    sigs = list(signals or []) + [c.to_signal(trial) for c in cases]
    denom_note = (
        "randomised subjects per arm as supplied"
        if n_by_arm
        else "WARNING: denominators are subjects with at least one AE (no randomisation counts given)"
    )

    def table(df: pd.DataFrame) -> str:
        return df.to_html(index=False, float_format=lambda x: f"{x:.3g}", border=0, classes="t")

    parts = [
        f"<h1>Interim safety report: {html.escape(trial)}</h1>",
        f"<p>Data cut-off: {html.escape(data_cutoff or 'not stated')}. {html.escape(denom_note)}.</p>",
        "<h2>Adverse events by arm</h2>",
        table(inc),
        "<h2>Hy's law screen</h2>",
        table(pd.DataFrame([c.to_dict() for c in cases])) if cases else "<p>No subject met ALT/AST &gt; 3 x ULN.</p>",
        "<h2>Signals</h2>",
        table(pd.DataFrame([{"severity": s.severity, "kind": s.kind, "message": s.message} for s in sigs]))
        if sigs
        else "<p>No signals.</p>",
        "<p><small>Fisher p-values are unadjusted and for screening only.</small></p>",
    ]
    style = (
        "body{font-family:sans-serif;margin:2em} table.t{border-collapse:collapse} "
        "table.t td,table.t th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(trial)} interim safety"
        f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )
