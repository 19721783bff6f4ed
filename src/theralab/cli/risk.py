"""``theralab risk``: polygenic scores, and clinical risk / survival models (train, predict)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from theralab.cli._common import App, console, progress_bar

app = App(help="Disease risk: polygenic scores from genotypes (PGS Catalog files on VCF/bed/pgen), and "
                       "clinical risk and survival models with calibration, explanations and fairness reports.",
                  no_args_is_help=True)

CLASSIFIER_KINDS = ("logistic", "gbm")
SURVIVAL_KINDS = ("cox", "neural_cox", "rsf")


def _read_table(path: str):  # noqa: ANN202 - pandas frame
    import pandas as pd

    from theralab.errors import InputError

    if not Path(path).exists():
        raise InputError("file not found", where=path)
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if path.endswith((".tsv", ".txt")) else ",")


@app.command()
def prs(
    scorefile: str = typer.Argument(..., help="PGS Catalog scoring file (.txt or .txt.gz, format v1/v2)"),
    genotypes: str = typer.Argument(..., help="genotypes: .vcf(.gz), PLINK .bed (or prefix) or .pgen"),
    out: str = typer.Option(None, help="write per-sample scores (plink2 .sscore columns) as TSV here"),
    name: str = typer.Option(None, help="score name (default: pgs_name or pgs_id from the header)"),
    keep_ambiguous: bool = typer.Option(False, help="keep strand-ambiguous A/T and C/G SNPs (default: drop)"),
    min_match_rate: float = typer.Option(0.0, help="refuse when fewer scoring variants match (pgsc_calc: 0.75)"),
    genotype_build: str = typer.Option(None, help="build of the genotypes when the file does not say (GRCh37/38)"),
    reference: str = typer.Option(None, help="TSV of reference-panel scores (columns IID, SUM[, ancestry]) for "
                                             "percentiles; the scored samples themselves if omitted"),
    ancestry: str = typer.Option(None, help="TSV IID -> ancestry for the scored samples (ancestry-aware z/percentile)"),
    incidence: float = typer.Option(None, help="baseline incidence (0-1) to report absolute risk"),
    or_per_sd: float = typer.Option(None, help="odds ratio per SD of the score (needed with --incidence)"),
) -> None:
    """Score samples with a polygenic score, as plink2 --score does (pgsc_calc's matching rules).

    Example: theralab risk prs PGS001229_22.txt cohort.bed --out scores.tsv --incidence 0.1 --or-per-sd 1.4
    """
    import pandas as pd

    from theralab.errors import InputError
    from theralab.precision.risk import ReferencePanel, absolute_risk, open_genotypes, read_scoring_file, score

    scoring = read_scoring_file(scorefile, name=name)
    geno = open_genotypes(genotypes)
    if genotype_build:
        geno.build = genotype_build
    result = score(scoring, geno, keep_ambiguous=keep_ambiguous, min_match_rate=min_match_rate)
    col = f"{result.score_columns[0]}_SUM"
    table = result.scores.copy()
    anc = None
    if ancestry:
        amap = _read_table(ancestry)
        anc = table["IID"].map(dict(zip(amap.iloc[:, 0].astype(str), amap.iloc[:, 1].astype(str), strict=True)))
    if reference:
        ref = _read_table(reference)
        if "SUM" not in ref.columns:
            raise InputError("the reference table needs a SUM column (reference-panel scores)", where=reference)
        panel = ReferencePanel.fit(ref["SUM"], ref["ancestry"] if "ancestry" in ref.columns else None)
    else:
        panel = ReferencePanel.fit(table[col], anc if anc is not None else None)
    zs, pct, caveats = [], [], set()
    for i, s in enumerate(table[col]):
        group = None if anc is None else anc.iloc[i]
        z, _used, caveat = panel.standardise(s, group)
        zs.append(z)
        pct.append(panel.percentile(s, None if caveat else group))
        if caveat:
            caveats.add(caveat)
    table["z"], table["percentile"] = zs, pct
    if incidence is not None:
        if or_per_sd is None:
            raise InputError("--incidence needs --or-per-sd (the score's odds ratio per SD)")
        table["absolute_risk"] = absolute_risk(pd.Series(zs).to_numpy(), incidence, or_per_sd)
    summary = Table("what", "value")
    for key, value in result.match.counts.items():
        summary.add_row(f"variants {key}", str(value))
    summary.add_row("match rate", f"{result.match.match_rate:.1%}")
    summary.add_row("samples", str(len(table)))
    summary.add_row("score mean (SD)", f"{table[col].mean():.4g} ({table[col].std():.3g})")
    console.print(summary)
    for note in [*result.notes, *sorted(caveats)]:
        console.print(f"[yellow]note:[/yellow] {note}")
    if not reference:
        console.print("[yellow]note:[/yellow] percentiles are within the scored samples (no --reference panel)")
    if out:
        table.to_csv(out, sep="\t", index=False)
        console.print(f"scores written to {out}")
    else:
        console.print(table.head(10).to_string(index=False))


@app.command()
def train(
    data: str = typer.Argument(..., help="CSV/TSV/Parquet, one row per patient"),
    out: str = typer.Option(..., help="model directory to write (card + weights)"),
    kind: str = typer.Option("logistic", help="logistic | gbm (binary outcome) or cox | neural_cox | rsf (survival)"),
    target: str = typer.Option(None, help="binary outcome column (classifiers)"),
    duration: str = typer.Option(None, help="follow-up time column (survival)"),
    event: str = typer.Option(None, help="event column, 1 = event, 0 = censored (survival)"),
    features: str = typer.Option(None, help="comma-separated feature columns (default: all others except --group)"),
    group: list[str] = typer.Option([], help="columns for the fairness report (repeat); 'age' is banded"),
    name: str = typer.Option(None, help="model name in its card (default: the directory name)"),
    seed: int = typer.Option(0),
    plot: str = typer.Option(None, help="write a calibration plot (PNG) here: out-of-fold probabilities "
                                        "(classifiers) or predicted vs Kaplan-Meier risk at the middle horizon"),
) -> None:
    """Train a calibrated clinical classifier or a survival model; report metrics and fairness by group.

    Example: theralab risk train cohort.csv --kind gbm --target event --group sex --group age --out models/chd
    """
    import numpy as np

    from theralab.errors import InputError
    from theralab.models.fairness import age_bands, fairness_report
    from theralab.precision.risk import save_model, train_classifier, train_survival

    frame = _read_table(data)
    feats = [f.strip() for f in features.split(",")] if features else None
    if kind in CLASSIFIER_KINDS:
        if not target:
            raise InputError(f"--kind {kind} needs --target (the 0/1 outcome column)")
        feats = feats or [c for c in frame.columns if c != target]
        with progress_bar() as bar:
            bar.add_task(f"training {kind} (5-fold calibration)", total=None)
            model, metrics = train_classifier(frame, target, kind=kind, features=feats, seed=seed)
        y, pred, rows = frame[target].to_numpy(float), np.asarray(metrics["oof_probability"]), frame
    elif kind in SURVIVAL_KINDS:
        if not (duration and event):
            raise InputError(f"--kind {kind} needs --duration and --event")
        feats = feats or [c for c in frame.columns if c not in (duration, event)]
        with progress_bar() as bar:
            bar.add_task(f"training {kind}", total=None)
            model, metrics = train_survival(frame, duration, event, kind=kind, features=feats, seed=seed)
        rows = frame.iloc[metrics.pop("test_positions")]
        y, pred = None, np.asarray(metrics.pop("test_risk"))
    else:
        raise InputError(f"unknown kind {kind!r}", hint="logistic, gbm, cox, neural_cox or rsf")
    if plot:
        from theralab.precision.risk.plots import calibration_plot, reliability_bins

        if y is not None:
            calibration_plot(reliability_bins(y, pred), plot, title=f"{kind}: out-of-fold calibration")
        elif metrics.get("calibration"):
            h = metrics["horizons"][len(metrics["horizons"]) // 2]
            calibration_plot(metrics["calibration"], plot, title=f"{kind}: held-out calibration at t = {h:g}",
                             x_label=f"predicted P(event by t = {h:g}) (probability)",
                             y_label="observed 1 - Kaplan-Meier (proportion)")
        console.print(f"calibration plot written to {plot}")
    shown = {k: v for k, v in metrics.items() if k not in ("oof_probability", "calibration")}
    console.print_json(json.dumps(shown, default=float))
    fairness = None
    if group:
        groups = {g: (age_bands(rows[g]) if g.lower() in {"age", "age_years"} else rows[g]) for g in group}
        if y is not None:
            fairness = fairness_report(y, pred, groups).to_dict()
        else:
            from theralab.precision.risk import concordance_index

            fairness = {"c_index_by_group": {
                g: {str(v): concordance_index(rows[duration][mask], rows[event][mask].astype(bool), pred[mask])
                    for v in sorted(set(map(str, col))) if (mask := (np.asarray(list(map(str, col))) == v)).sum() > 10
                    and rows[event][mask].sum() > 0}
                for g, col in groups.items()}}
        for flag in fairness.get("flags", []):
            console.print(f"[yellow]fairness flag:[/yellow] {flag}")
        console.print_json(json.dumps({"fairness": {k: v for k, v in fairness.items() if k != "settings"}},
                                      default=float)[:4000])
    if kind == "rsf":
        console.print("[yellow]note:[/yellow] a random survival forest cannot be saved without pickle; "
                      "metrics above, nothing written")
        return
    path = save_model(model, out, name=name or Path(out).name, metrics=shown, training=frame,
                      extra={"fairness": fairness} if fairness else None)
    console.print(f"model written to {path}")


@app.command()
def predict(
    model: str = typer.Argument(..., help="model directory or registered name (from 'theralab risk train')"),
    data: str = typer.Argument(..., help="CSV/TSV/Parquet with the model's feature columns"),
    out: str = typer.Option(None, help="write predictions (and explanations) as CSV here"),
    explain: bool = typer.Option(False, help="add SHAP values per feature (classifiers)"),
    horizon: list[float] = typer.Option([], help="survival: add S(t) at these times (repeat)"),
) -> None:
    """Predict with a saved risk model; --explain adds SHAP values (log-odds contributions)."""
    import pandas as pd

    from theralab.models.base import load_predictor

    predictor = load_predictor(model)
    frame = _read_table(data)
    if horizon:
        predictor.horizons = list(horizon)
    result = predictor.predict(frame)
    if explain and hasattr(predictor.model, "explain"):
        shap = predictor.model.explain(frame).add_prefix("shap_")
        result = pd.concat([result, shap], axis=1)
    if out:
        result.to_csv(out, index=False)
        console.print(f"{len(result)} predictions written to {out}")
    else:
        console.print(result.head(20).to_string(index=False))
