"""``theralab generate``: goal-directed molecular design (Graph GA, RL, GAN) and sampling from a prior."""

from __future__ import annotations

from pathlib import Path

import typer

from theralab.cli._common import App, console, err_console

app = App(
    help=(
        "Generative molecular design. 'run' optimises molecules against a TOML run file of scoring "
        "components (QED, SA, properties, SMARTS, similarity, models, ADMET, selectivity, custom) with "
        "Graph GA, REINVENT-style RL or an ORGAN-style GAN under a budget of scoring calls; 'sample' draws "
        "SMILES from a shipped prior (SMILES or SELFIES GRU, or the GAN generator). See docs/generation.md."
    ),
    no_args_is_help=True,
)


@app.command("run")
def run_cmd(
    run_file: Path = typer.Argument(..., help="TOML run file: [run], [scoring] + [[scoring.components]], "
                                    "[ga], [rl], [gan]"),
    out: Path = typer.Option(Path("generated.csv"), "--out", "-o",
                             help="ranked results table (.csv or .parquet) with per-component scores"),
    budget: int = typer.Option(None, help="override [run] budget (scoring calls)"),
    resume: bool = typer.Option(False, help="continue from <out>.history.csv (and <out>.agent.pt for RL, "
                                "<out>.gan.pt for the GAN)"),
    show: int = typer.Option(10, help="rows of the ranked table to print"),
) -> None:
    """Optimise molecules; prints best score, top-10 mean, validity and uniqueness as it goes.

    Example: theralab generate run examples/generate/qed_ga.toml --out qed.csv
    """
    from rich.table import Table

    from theralab.discovery.generate import execute_run, load_run

    cfg = load_run(run_file)
    if budget is not None:
        cfg.run.budget = budget
    from theralab.cli._common import progress_bar

    with progress_bar() as bar:
        task = bar.add_task(f"{cfg.run.optimizer} best=0.000", total=cfg.run.budget)

        def show_progress(row: dict[str, float]) -> None:
            desc = f"{cfg.run.optimizer} best={row.get('best', 0):.3f} top10={row.get('top10', 0):.3f}"
            if "valid" in row:
                desc += f" valid={row['valid']:.2f} unique={row['unique']:.2f}"
            bar.update(task, completed=row.get("calls", 0), description=desc)

        result = execute_run(cfg, out=out, resume=resume, progress=show_progress)
    table = result.table(show)
    view = Table(title=f"top {len(table)} of {result.oracle.calls} scored ({result.stopped})")
    comps = [c.name for c in cfg.scoring.components]
    for col in ["rank", "score", "smiles", *comps]:
        view.add_column(col)
    for _, r in table.iterrows():
        view.add_row(str(r["rank"]), f"{r['score']:.3f}", str(r["smiles"]),
                     *[f"{r[c]:.2f}" if c in r else "" for c in comps])
    console.print(view)
    err_console.print(f"AUC-top-10 at budget {cfg.run.budget}: {result.oracle.auc_top(10):.3f}; wrote {out}")


@app.command("sample")
def sample_cmd(
    n: int = typer.Option(1000, "--n", min=1, help="number of SMILES to sample"),
    out: Path = typer.Option(None, "--out", "-o", help="write the samples (one SMILES per line, .smi/.csv)"),
    prior: str = typer.Option(None, help="a registered prior (smiles-gru-prior, selfies-gru-prior, smiles-organ) "
                              "or a directory / prior.pt (default: smiles-gru-prior)"),
    seed: int = typer.Option(0, help="random seed"),
    temperature: float = typer.Option(1.0, min=0.05, help="softmax temperature (<1: safer, less diverse)"),
) -> None:
    """Sample SMILES from the prior and report validity and uniqueness.

    Example: theralab generate sample --n 10000 --out samples.smi
    """
    from theralab.discovery.generate import load_prior, sample_report

    model = load_prior(prior)
    smiles: list[str] = []
    from theralab.cli._common import progress_bar

    with progress_bar() as bar:
        task = bar.add_task("sampling", total=n)
        while len(smiles) < n:
            k = min(1000, n - len(smiles))
            batch, _ = model.sample(k, seed=seed + len(smiles), temperature=temperature)
            smiles += batch
            bar.update(task, completed=len(smiles))
    report = sample_report(smiles)
    if out is not None:
        out.write_text("smiles\n" + "\n".join(smiles) + "\n" if out.suffix == ".csv" else "\n".join(smiles) + "\n")
    console.print(f"sampled {len(smiles)}: validity {report['validity']:.3f}, "
                  f"uniqueness (of valid) {report['uniqueness']:.3f}")
    if out is None:
        for s in smiles[:10]:
            console.print(s, highlight=False)
