"""``theralab trials``: trial design, safety signal detection and meta-analysis from the command line.

Heavy modules (scipy, pandas, plotly) are imported inside the commands so ``theralab --help``
stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from theralab.cli._common import App
from theralab.errors import InputError

app = App(
    help="Clinical-trial statistics: sample size and group-sequential designs (rpact-exact), "
    "safety signal detection (PRR/ROR/IC, MGPS/EBGM, MaxSPRT), meta-analysis (metafor-exact), and recruitment: "
    "criteria parsing, explainable patient matching and feasibility funnels.",
    no_args_is_help=True,
)
design_app = App(
    help="Design a trial: 'samplesize' for fixed designs, 'gsd' for group-sequential boundaries, "
    "'simulate' for adaptive-design operating characteristics.",
    no_args_is_help=True,
)
samplesize_app = App(
    help="Fixed-design sample size. Pick the endpoint: means, proportions, survival, noninferiority, "
    "equivalence. Alpha is the total (two-sided by default) type I error; power = 1 - beta.",
    no_args_is_help=True,
)
safety_app = App(
    help="Safety signal detection on spontaneous or trial adverse-event reports "
    "(one row per report x drug x event) and sequential surveillance.",
    no_args_is_help=True,
)
app.add_typer(design_app, name="design")
design_app.add_typer(samplesize_app, name="samplesize")
app.add_typer(safety_app, name="safety")


def _print_table(title: str, rows: list[dict[str, Any]], fmt: str = "{:.6g}") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    if not rows:
        Console().print(f"{title}: no rows")
        return
    for col in rows[0]:
        table.add_column(str(col))
    for r in rows:
        table.add_row(*[fmt.format(v) if isinstance(v, float) else str(v) for v in r.values()])
    Console(width=200).print(table)


def _print_size(res: Any, as_json: bool) -> None:
    d = res.to_dict()
    if as_json:
        typer.echo(json.dumps(d, default=float, indent=2))
        return
    rows = [
        {"quantity": "arm 1", "exact": d["n1"], "rounded up": d["n1_ceil"]},
        {"quantity": "arm 2", "exact": d["n2"], "rounded up": d["n2_ceil"]},
        {"quantity": "total", "exact": d["n_total"], "rounded up": d["n_total_ceil"]},
    ]
    if "events" in d["details"]:
        rows.append({"quantity": "events", "exact": float(d["details"]["events"]), "rounded up": ""})
    _print_table(f"{d['method']}: alpha={d['alpha']} ({d['sided']}-sided), power={d['power']}", rows, "{:.4f}")


ALPHA = typer.Option(0.05, help="total type I error (two-sided unless --sided 1)")
POWER = typer.Option(0.8, help="power = 1 - beta, strictly between 0 and 1")
SIDED = typer.Option(2, help="1 or 2")
RATIO = typer.Option(1.0, help="allocation ratio n2/n1")
JSON = typer.Option(False, "--json", help="print the full result as JSON")


@samplesize_app.command("means")
def ss_means(
    delta: float = typer.Option(..., help="difference in means to detect"),
    sd: float = typer.Option(1.0, help="common standard deviation"),
    alpha: float = ALPHA,
    power: float = POWER,
    sided: int = SIDED,
    ratio: float = RATIO,
    test: str = typer.Option("t", help="'t' (exact noncentral t, as R power.t.test) or 'z'"),
    as_json: bool = JSON,
) -> None:
    """Two-sample comparison of means. Example: --delta 0.5 --sd 1 gives 63.77 (64) per arm."""
    from theralab.trials.design import n_means

    _print_size(n_means(delta, sd, alpha=alpha, power=power, sided=sided, ratio=ratio, test=test), as_json)


@samplesize_app.command("proportions")
def ss_proportions(
    p1: float = typer.Option(..., help="event proportion in arm 1"),
    p2: float = typer.Option(..., help="event proportion in arm 2"),
    alpha: float = ALPHA,
    power: float = POWER,
    sided: int = SIDED,
    ratio: float = RATIO,
    method: str = typer.Option(
        "pooled", help="pooled (R power.prop.test / rpact), unpooled, arcsine (Cohen's h), fleiss-cc"
    ),
    as_json: bool = JSON,
) -> None:
    """Two proportions. Example: --p1 0.5 --p2 0.75 --power 0.9 gives 76.71 per arm."""
    from theralab.trials.design import n_proportions

    res = n_proportions(p1, p2, alpha=alpha, power=power, sided=sided, ratio=ratio, method=method)
    _print_size(res, as_json)


@samplesize_app.command("survival")
def ss_survival(
    hr: float = typer.Option(..., help="hazard ratio treatment/control"),
    median_control: float = typer.Option(12.0, help="median survival in the control arm"),
    accrual: float = typer.Option(24.0, help="uniform accrual period"),
    follow_up: float = typer.Option(12.0, help="minimum follow-up after accrual ends"),
    alpha: float = ALPHA,
    power: float = POWER,
    sided: int = SIDED,
    ratio: float = RATIO,
    method: str = typer.Option("schoenfeld", help="schoenfeld or freedman (events formula)"),
    as_json: bool = JSON,
) -> None:
    """Log-rank test: events (Schoenfeld/Freedman), then patients from accrual and follow-up."""
    from theralab.trials.design import n_survival

    res = n_survival(
        hr,
        median_control=median_control,
        accrual_time=accrual,
        follow_up=follow_up,
        alpha=alpha,
        power=power,
        sided=sided,
        ratio=ratio,
        method=method,
    )
    _print_size(res, as_json)


@samplesize_app.command("noninferiority")
def ss_noninferiority(
    margin: float = typer.Option(..., help="non-inferiority margin (positive)"),
    sd: float = typer.Option(None, help="SD for a continuous endpoint"),
    p1: float = typer.Option(None, help="proportion in arm 1 (binary endpoint)"),
    p2: float = typer.Option(None, help="proportion in arm 2 (binary endpoint)"),
    alpha: float = typer.Option(0.025, help="one-sided type I error"),
    power: float = POWER,
    as_json: bool = JSON,
) -> None:
    """Non-inferiority: one-sided test that arm 1 is no worse than arm 2 by more than the margin."""
    from theralab.trials.design import n_noninferiority

    _print_size(n_noninferiority(margin, sd=sd, p1=p1, p2=p2, alpha=alpha, power=power), as_json)


@samplesize_app.command("equivalence")
def ss_equivalence(
    margin: float = typer.Option(..., help="equivalence margin (+-)"),
    sd: float = typer.Option(1.0, help="common SD"),
    true_difference: float = typer.Option(0.0, help="assumed true difference"),
    alpha: float = typer.Option(0.05, help="level of each one-sided test (TOST)"),
    power: float = POWER,
    as_json: bool = JSON,
) -> None:
    """Equivalence of means by two one-sided tests (TOST)."""
    from theralab.trials.design import n_equivalence

    res = n_equivalence(margin, sd=sd, true_difference=true_difference, alpha=alpha, power=power)
    _print_size(res, as_json)


def _floats(text: str | None, where: str) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError as exc:
        raise InputError(f"expected comma-separated numbers, got {text!r}", where=where) from exc


@design_app.command("gsd")
def gsd(
    k: int = typer.Option(3, "--k", help="number of looks (interims + final)"),
    spending: str = typer.Option(
        "ld-of",
        help="of (O'Brien-Fleming), pocock, hp (Haybittle-Peto), ld-of / ld-pocock (Lan-DeMets), "
        "hsd (Hwang-Shih-DeCani, see --gamma), kd (Kim-DeMets alpha t^gamma), user (see --alpha-spent)",
    ),
    alpha: float = ALPHA,
    beta: float = typer.Option(0.2, help="type II error for inflation factor / expected N"),
    sided: int = SIDED,
    rates: str = typer.Option(None, help="information fractions of the looks, e.g. 0.3,0.6,1"),
    gamma: float = typer.Option(-4.0, help="HSD gamma (-4 ~ O'Brien-Fleming, 1 ~ Pocock)"),
    alpha_spent: str = typer.Option(None, help="cumulative alpha per look for --spending user"),
    futility: str = typer.Option(None, help="non-binding futility z bounds per interim (or per look), e.g. 0,0.5"),
    beta_spending: str = typer.Option(
        None, help="derive non-binding futility bounds by spending beta: ld-of, ld-pocock, hsd, kd (one-sided)"
    ),
    beta_gamma: float = typer.Option(-4.0, help="gamma of the hsd / kd beta-spending function"),
    as_json: bool = JSON,
) -> None:
    """Group-sequential boundaries (exact recursive integration, matches rpact to 1e-6).

    Example: --k 5 --spending ld-of gives z = 4.877, 3.357, 2.680, 2.290, 2.031. Multiply the
    fixed-design sample size by the inflation factor to get the maximum sample size.
    """
    from theralab.trials.design import group_sequential

    des = group_sequential(
        k,
        kind=spending,
        alpha=alpha,
        beta=beta,
        sided=sided,
        information_rates=_floats(rates, "rates"),
        gamma=gamma,
        user_alpha_spent=_floats(alpha_spent, "alpha-spent"),
        futility_z=_floats(futility, "futility"),
        beta_spending=beta_spending,
        beta_gamma=beta_gamma,
    )
    if as_json:
        typer.echo(json.dumps(des.to_dict(), indent=2))
        return
    _print_table(f"{spending} design, K={k}, alpha={alpha} ({sided}-sided)", des.table())
    typer.echo(
        f"inflation factor {des.inflation_factor:.6f}; expected N under H1 / fixed N "
        f"{des.expected_n_rel_h1:.6f}; under H0 {des.expected_n_rel_h0:.6f}"
    )


@design_app.command("simulate")
def simulate(
    design: str = typer.Option("ssr", help="ssr (sample-size re-estimation) or arm-dropping"),
    delta: str = typer.Option("0.3", help="true effect (ssr) or comma-separated effects per arm"),
    n1: int = typer.Option(50, help="stage-1 subjects per arm"),
    n2: int = typer.Option(50, help="planned stage-2 subjects per arm"),
    n2_max: int = typer.Option(200, help="ssr: cap on re-estimated stage-2 size per arm"),
    alpha: float = typer.Option(0.025, help="one-sided level"),
    n_sim: int = typer.Option(10_000, help="number of simulated trials"),
    seed: int = typer.Option(1, help="random seed"),
) -> None:
    """Monte-Carlo operating characteristics (power or type I error, expected N) of adaptive designs."""
    from theralab.trials.design import simulate_arm_dropping, simulate_ssr

    effects = _floats(delta, "delta") or [0.0]
    if design == "ssr":
        res = simulate_ssr(effects[0], n1=n1, n2=n2, n2_max=n2_max, alpha=alpha, n_sim=n_sim, seed=seed)
    elif design == "arm-dropping":
        res = simulate_arm_dropping(effects, n1=n1, n2=n2, alpha=alpha, n_sim=n_sim, seed=seed)
    else:
        raise InputError(f"unknown design {design!r}", where="design", hint="ssr or arm-dropping")
    typer.echo(json.dumps(res.to_dict(), indent=2))


def _read_csv(path: Path) -> Any:
    import pandas as pd

    if not path.exists():
        raise InputError(f"file not found: {path}", where=str(path))
    try:
        return pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001  (pandas raises many types)
        raise InputError(f"cannot read CSV: {exc}", where=str(path)) from exc


@safety_app.command("disproportionality")
def disproportionality_cmd(
    data: Path = typer.Argument(..., help="CSV: report rows (id, drug, event) or 2x2 counts (a, b, c, d)"),
    id_col: str = typer.Option("id", "--id", help="report id column"),
    drug_col: str = typer.Option("var1", "--drug", help="drug/product column"),
    event_col: str = typer.Option("var2", "--event", help="adverse event column"),
    min_count: int = typer.Option(3, help="only pairs with at least this many reports"),
    top: int = typer.Option(20, help="rows to print"),
    output: Path = typer.Option(None, "-o", "--output", help="write the full table as CSV"),
) -> None:
    """PRR (chi-square with Yates), ROR with 95% CI and BCPNN IC/IC025; flags the Evans criteria
    (PRR >= 2, chi2 >= 4, n >= 3). Zero cells get 0.5 added for PRR/ROR (column cc_applied)."""
    from theralab.trials.safety.screen import disproportionality, disproportionality_pairs

    df = _read_csv(data)
    if {"a", "b", "c", "d"} <= set(df.columns):
        out = disproportionality(df.a, df.b, df.c, df.d)
        out = df.drop(columns=["a", "b", "c", "d"]).join(out)
    else:
        out = disproportionality_pairs(df, id_col=id_col, drug_col=drug_col, event_col=event_col, min_count=min_count)
    if output:
        out.to_csv(output, index=False)
        typer.echo(f"wrote {len(out)} rows to {output}")
    cols = [
        c
        for c in (
            "drug",
            "event",
            "a",
            "PRR",
            "chi2_yates",
            "ROR",
            "ROR_lo",
            "ROR_hi",
            "IC",
            "IC025",
            "evans_signal",
        )
        if c in out.columns
    ]
    _print_table(
        f"Disproportionality ({int(out.evans_signal.sum())} Evans signals)",
        out[cols].head(top).to_dict("records"),
        "{:.4g}",
    )


@safety_app.command("mgps")
def mgps_cmd(
    data: Path = typer.Argument(..., help="CSV with one row per report x drug x event"),
    id_col: str = typer.Option("id", "--id", help="report id column"),
    drug_col: str = typer.Option("var1", "--drug", help="drug/product column"),
    event_col: str = typer.Option("var2", "--event", help="adverse event column"),
    output: Path = typer.Option(None, "-o", "--output", help="write all pairs with EBGM/EB05/EB95 as CSV"),
    top: int = typer.Option(20, help="rows to print"),
    no_squash: bool = typer.Option(False, help="fit the prior on all points instead of squashed data"),
) -> None:
    """MGPS (DuMouchel): two-gamma prior by maximum likelihood, EBGM and EB05/EB95 per pair.
    EB05 > 2 is the usual signal threshold."""
    from theralab.trials.safety.screen import mgps

    out, prior = mgps(_read_csv(data), id_col=id_col, drug_col=drug_col, event_col=event_col, squash_data=not no_squash)
    typer.echo("prior: " + ", ".join(f"{k}={v:.6g}" for k, v in prior.to_dict().items()))
    typer.echo(f"pairs with EB05 > 2: {int((out.EB05 > 2).sum())} of {len(out)}")
    if output:
        out.to_csv(output, index=False)
        typer.echo(f"wrote {len(out)} rows to {output}")
    _print_table("Top pairs by EB05", out.head(top).to_dict("records"), "{:.4g}")


@safety_app.command("report")
def report_cmd(
    ae: Path = typer.Argument(..., help="AE CSV with columns subject, arm, term (one row per event)"),
    trial: str = typer.Option(..., help="trial identifier shown in the report"),
    n_by_arm: str = typer.Option(None, help="randomised subjects per arm, e.g. A=120,B=118 (the denominators)"),
    labs: Path = typer.Option(None, help="lab CSV (subject, test, value, uln, time) for the Hy's law screen"),
    cutoff: str = typer.Option(None, help="data cut-off date shown in the report"),
    output: Path = typer.Option(..., "-o", "--output", help="HTML file to write"),
) -> None:
    """Interim safety report (HTML) for a data monitoring committee: AE incidence by arm, Hy's law."""
    from theralab.trials.safety.screen import interim_safety_report

    denom = None
    if n_by_arm:
        try:
            denom = {k.strip(): int(v) for k, v in (x.split("=") for x in n_by_arm.split(","))}
        except ValueError as exc:
            raise InputError(f"expected ARM=N pairs, got {n_by_arm!r}", where="n-by-arm") from exc
    html = interim_safety_report(
        _read_csv(ae), trial=trial, n_by_arm=denom, labs=_read_csv(labs) if labs else None, data_cutoff=cutoff
    )
    output.write_text(html)
    typer.echo(f"wrote {output}")


@safety_app.command("maxsprt")
def maxsprt_cmd(
    t_max: float = typer.Option(..., help="surveillance length as expected events under H0"),
    alpha: float = typer.Option(0.05, help="type I error"),
    min_events: int = typer.Option(1, "--m", help="minimum events before a signal"),
) -> None:
    """Exact critical value (log-likelihood ratio) of continuous Poisson MaxSPRT."""
    from theralab.trials.safety.screen import maxsprt_critical_value

    cv = maxsprt_critical_value(t_max, alpha=alpha, min_events=min_events)
    typer.echo(f"critical value (LLR) = {cv:.9f}")


@app.command("meta")
def meta_cmd(
    data: Path = typer.Argument(
        ...,
        help="CSV: ai,bi,ci,di (or tpos,tneg,cpos,cneg) for RR/OR/RD; "
        "m1,sd1,n1,m2,sd2,n2 for MD/SMD; loghr,se for HR; yi,vi for ready effects",
    ),
    measure: str = typer.Option("RR", help="RR, OR, RD, MD, SMD, HR or GEN (yi, vi given)"),
    method: str = typer.Option("REML", help="FE, DL, REML, ML, PM, HE, SJ, HS; or MH / PETO for 2x2"),
    test: str = typer.Option("z", help="z, or knha for the Hartung-Knapp adjustment"),
    label: str = typer.Option(None, help="study label column (default: author/study if present)"),
    output: Path = typer.Option(None, "-o", "--output", help="write the forest plot (.html) or result (.json)"),
    funnel: Path = typer.Option(None, help="write the funnel plot as HTML"),
) -> None:
    """Pool studies and report heterogeneity (Q, I2, tau2 with Q-profile CI) and the prediction interval.

    Example (BCG vaccine trials): --measure RR --method DL gives log RR -0.7141 (SE 0.1787),
    tau2 0.3088, I2 92.1%. Zero cells get 0.5 added to the whole table (stated in the output).
    """
    from theralab.trials import meta as m
    from theralab.trials.meta import analyse_table

    outcome = analyse_table(_read_csv(data), measure, method, test=test, label=label)
    res = outcome.result
    if outcome.effects is None:  # Mantel-Haenszel or Peto: one pooled fixed estimate
        typer.echo(json.dumps(res.to_dict(), indent=2))
        return
    if outcome.correction:
        typer.echo(f"continuity correction: {outcome.correction}: {', '.join(outcome.effects.corrected)}")
    _print_meta(res)
    if output:
        _write_fig(m.forest_plot(res), output) if output.suffix != ".json" else output.write_text(
            json.dumps(res.to_dict(), indent=2)
        )
        typer.echo(f"wrote {output}")
    if funnel:
        _write_fig(m.funnel_plot(res), funnel)
        typer.echo(f"wrote {funnel}")


def _print_meta(res: Any) -> None:
    import math

    ratio = res.measure in ("RR", "OR", "HR")
    rows = [
        {"quantity": "estimate", "value": res.estimate, "ci_lb": res.ci_lb[0], "ci_ub": res.ci_ub[0]},
        {"quantity": "se", "value": res.se[0], "ci_lb": "", "ci_ub": ""},
    ]
    if ratio:
        rows.append(
            {
                "quantity": res.measure,
                "value": math.exp(res.estimate),
                "ci_lb": math.exp(res.ci_lb[0]),
                "ci_ub": math.exp(res.ci_ub[0]),
            }
        )
    if res.pi:
        tr = math.exp if ratio else float
        rows.append({"quantity": "prediction interval", "value": "", "ci_lb": tr(res.pi[0]), "ci_ub": tr(res.pi[1])})
    if res.tau2_ci:
        rows.append({"quantity": "tau2", "value": res.tau2, "ci_lb": res.tau2_ci[0], "ci_ub": res.tau2_ci[1]})
        rows.append({"quantity": "I2 (%)", "value": res.i2, "ci_lb": res.i2_ci[0], "ci_ub": res.i2_ci[1]})
    rows.append({"quantity": f"Q (df={res.q_df})", "value": res.q, "ci_lb": "p =", "ci_ub": res.q_p})
    _print_table(f"Meta-analysis: {res.measure or 'effect'}, {res.method}, test={res.test}, k={res.k}", rows)


def _write_fig(fig: dict, path: Path) -> None:
    import plotly.io as pio

    path.write_text(pio.to_html(pio.from_json(json.dumps(fig)), include_plotlyjs=True, full_html=True))


# Recruitment: trials add|list|match|funnel (theralab.cli.trials.match).
from theralab.cli.trials.match import register as _register_matching  # noqa: E402

_register_matching(app)

# Criteria parsing: theralab trials criteria parse ... (theralab.cli.trials.criteria).
from theralab.cli.trials.criteria import app as _criteria_app  # noqa: E402

app.add_typer(_criteria_app, name="criteria")

# Outcome prediction: theralab trials outcome train|predict|explain (theralab.cli.trials.outcome).
from theralab.cli.trials.outcome import app as _outcome_app  # noqa: E402

app.add_typer(_outcome_app, name="outcome")
