"""``theralab trials outcome``: train, predict and explain trial-outcome models.

Mounted by the trials CLI as ``theralab trials outcome``. The library is
:mod:`theralab.trials.outcome`; these commands only read files, call it and print.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from theralab.cli._common import App, console, err_console, progress_bar

app = App(
    help="Trial outcome prediction and design insight. 'train' fits a calibrated LightGBM baseline (and a "
    "three-modality network) on your labelled historical trials (TOP-format CSV or protocol JSON); 'predict' "
    "scores trials; 'explain' shows a draft protocol's risk, the features that lower it, similar past trials and "
    "what-if edits (with the feasibility change on stored patients with --feasibility). No model ships: TOP is "
    "for evaluation only, so train your own.",
    no_args_is_help=True,
)


@app.callback()
def main() -> None:
    """Trial outcome prediction and design insight."""


def read_trials(path: Path, smiles: Path | None = None) -> tuple[list[Any], list[dict[str, str]]]:
    """Records from a TOP-format CSV, a ClinicalTrials.gov v2 JSON (study, list or API page) or protocol JSON."""
    from theralab.trials.outcome import read_trials as read

    res = read(path, json.loads(smiles.read_text()) if smiles else None)
    return res.records, res.bad


def _report_bad(bad: list[dict[str, str]]) -> None:
    for b in bad[:10]:
        err_console.print(f"[yellow]skipped[/yellow] {b['where']}: {b['why']}")
    if len(bad) > 10:
        err_console.print(f"[yellow]... and {len(bad) - 10} more skipped rows[/yellow]")


def _features(model_or_none: Any, records: list[Any], admet: bool, cache_dir: Path | None,
              text_hash: bool = False) -> Any:
    from theralab.trials.outcome import featurize

    with progress_bar() as bar:
        task = bar.add_task("featurising (criteria parsing)", total=len(records))

        def step(n: int) -> None:
            bar.advance(task, n)

        if model_or_none is not None:
            return model_or_none.features(records, cache_dir=cache_dir, progress=step)
        return featurize(records, admet=admet, text_hash=text_hash, cache_dir=cache_dir, progress=step)


@app.command("train")
def train(
    data: Path = typer.Argument(..., help="labelled trials: TOP-format CSV (label 1 = success) or protocol JSON"),
    name: str = typer.Option("trial-outcome", help="model name in the registry"),
    out: Path | None = typer.Option(None, "--out", "-o", help="model directory (default: the user registry)"),
    neural: bool = typer.Option(True, help="also train the three-modality network"),
    folds: int = typer.Option(5, min=2, max=20, help="folds for out-of-fold calibration"),
    calibration: str = typer.Option("platt", help="platt or isotonic"),
    admet: bool = typer.Option(False, help="add ADMET-panel predictions of the drugs (slow the first time)"),
    text_hash: bool = typer.Option(False, help="add 256 hashed criteria-word columns (words and word pairs)"),
    cache_dir: Path | None = typer.Option(None, help="cache for parsed-criteria features and ADMET predictions"),
    seed: int = typer.Option(0),
) -> None:
    """Train on your historical trials; prints out-of-fold metrics and writes a model directory with its card."""
    import torch

    from theralab.models.registry import user_models_root
    from theralab.trials.outcome import train_model

    torch.set_num_threads(1)
    records, bad = read_trials(data)
    _report_bad(bad)
    fs = _features(None, records, admet, cache_dir, text_hash)
    err_console.print("training (out-of-fold calibration, then the final fit)...")
    model = train_model(records, name=name, neural=neural, folds=folds, calibration=calibration, seed=seed,
                        admet=admet, text_hash=text_hash, features=fs, source=data.name)
    target = out or user_models_root() / name / model.card.created.replace(":", "-")
    model.card.version = target.name if out is None else model.card.version
    model.save(target)
    for kind, m in model.oof.items():
        console.print(f"{kind}: out-of-fold ROC-AUC {m['roc_auc']:.3f}  PR-AUC {m['pr_auc']:.3f}  F1 {m['f1']:.3f}"
                      f"  (n={m['n']})")
    console.print(f"model written to {target}")


@app.command("predict")
def predict(
    model: str = typer.Argument(..., help="model directory or registered name"),
    data: Path = typer.Argument(..., help="trials: TOP-format CSV, ClinicalTrials.gov v2 JSON or protocol JSON"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write predictions CSV here (default: print)"),
    drivers: int = typer.Option(0, help="add the N features lowering each trial's probability most"),
    smiles: Path | None = typer.Option(None, help="JSON {drug name: SMILES} for ClinicalTrials.gov records"),
    cache_dir: Path | None = typer.Option(None, help="cache for parsed-criteria features"),
) -> None:
    """Calibrated probability of success per trial (and metrics when the file has labels)."""
    import numpy as np
    import pandas as pd

    from theralab.trials.outcome import batch_explain, metrics, resolve_model

    m = resolve_model(model)
    records, bad = read_trials(data, smiles)
    _report_bad(bad)
    fs = _features(m, records, m.admet, cache_dir)
    pred = m.predict_frame(fs.frame)
    pred["label"] = [r.label for r in records]
    pred["notes"] = ["; ".join(fs.notes[r.nct_id]) for r in records]
    if drivers:
        pred = pred.join(batch_explain(m, fs.frame, top=drivers))
    if out:
        pred.to_csv(out)
        console.print(f"wrote {len(pred)} predictions to {out}")
    else:
        console.print(pred.drop(columns=["notes"]).round(4).to_string())
    labelled = pred["label"].notna()
    if labelled.sum() and pd.Series(pred.loc[labelled, "label"]).nunique() == 2:
        y = pred.loc[labelled, "label"].astype(int).to_numpy()
        s = metrics(np.asarray(pred.loc[labelled, "prob"]), y, m.threshold)
        console.print(f"on {s['n']} labelled trials: ROC-AUC {s['roc_auc']:.3f}  PR-AUC {s['pr_auc']:.3f}  "
                      f"F1 {s['f1']:.3f} (threshold {m.threshold:.3f})")


@app.command("explain")
def explain(
    model: str = typer.Argument(..., help="model directory or registered name"),
    protocol: Path = typer.Argument(..., help="one draft: protocol JSON, or a ClinicalTrials.gov v2 study JSON"),
    edit: list[str] = typer.Option([], "--edit", "-e", help='what-if edit as JSON, e.g. \'{"op": "drop_criterion", '
                                   '"criterion_id": "exc-3"}\' or \'{"op": "relax_upper_age"}\' (default: proposed)'),
    similar: int = typer.Option(5, help="how many similar historical trials"),
    feasibility: bool = typer.Option(False, help="count eligible stored patients before/after each edit"),
    smiles: Path | None = typer.Option(None, help="JSON {drug name: SMILES} for a ClinicalTrials.gov record"),
    json_out: Path | None = typer.Option(None, "--json", help="write the full result as JSON here"),
) -> None:
    """Risk of a draft protocol, the features lowering it, similar past trials and what-if edits."""
    from rich.table import Table

    from theralab.errors import InputError
    from theralab.trials.outcome import WhatIfEdit, explain_protocol, resolve_model

    m = resolve_model(model)
    records, bad = read_trials(protocol, smiles)
    if bad or len(records) != 1:
        _report_bad(bad)
        raise InputError(f"explain takes one protocol; {protocol.name} holds {len(records)} readable", where="protocol")
    try:
        edits = [WhatIfEdit.model_validate_json(e) for e in edit] or None
    except ValueError as exc:
        raise InputError(f"bad --edit: {exc}", where="--edit", hint='e.g. {"op": "relax_upper_age"}') from exc
    if feasibility:
        from theralab.runtime.db import session_scope

        with session_scope() as session:
            res = explain_protocol(m, records[0], edits=edits, session=session, k=similar)
    else:
        res = explain_protocol(m, records[0], edits=edits, k=similar)
    neural = f" (network {res['probability_neural']:.3f})" if res["probability_neural"] is not None else ""
    console.print(f"[bold]{res['nct_id']}[/bold]: probability of success {res['probability']:.3f}{neural}")
    tab = Table(title="features lowering it most (TreeSHAP, log-odds)")
    for col in ("feature", "value", "contribution"):
        tab.add_column(col)
    for d in res["drivers"]["lowering"]:
        tab.add_row(d["label"], "" if d["value"] is None else f"{d['value']:g}", f"{d['contribution']:+.3f}")
    console.print(tab)
    tab = Table(title="similar historical trials")
    for col in ("nct_id", "similarity", "phase", "diseases", "outcome", "why stopped"):
        tab.add_column(col)
    for s in res["similar"]:
        outcome = {1: "success", 0: "failure", None: "?"}[s["label"]]
        tab.add_row(s["nct_id"], f"{s['similarity']:.2f}", s["phase"], s["diseases"][:40], outcome,
                    (s["why_stop"] or "")[:60])
    console.print(tab)
    tab = Table(title="what-if edits")
    for col in ("edit", "probability", "change", "eligible", "change in eligible"):
        tab.add_column(col)
    for w in res["whatifs"]:
        tab.add_row(w["description"], f"{w['probability']:.3f}", f"{w['change']:+.3f}",
                    "" if w["eligible"] is None else str(w["eligible"]),
                    "" if w["eligible_change"] is None else f"{w['eligible_change']:+d}")
    console.print(tab)
    for n in res["notes"]:
        err_console.print(f"[yellow]note:[/yellow] {n}")
    if json_out:
        json_out.write_text(json.dumps(res, indent=2))
        console.print(f"wrote {json_out}")
