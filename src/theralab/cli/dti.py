"""``theralab dti``: train, predict, bind and benchmark drug-target affinity models.

Heavy libraries (torch, lightgbm, RDKit) load inside the commands so ``theralab --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from theralab.cli._common import App, console, err_console, progress_bar

app = App(help="Drug-target interaction: predict binding affinity (pKd) from SMILES and a protein "
                       "sequence with a DeepDTA CNN, a GIN graph model or an ECFP+k-mer baseline; rank a "
                       "library against a target; benchmark on Davis/KIBA.", no_args_is_help=True)

DATA_HELP = ("a CSV/TSV with smiles, sequence, affinity columns, or 'davis' / 'kiba' (DeepDTA-format folders "
             "under --data-root)")


def _read_target(text: str) -> tuple[str, str]:
    """A FASTA file, or FASTA text / a raw sequence given inline."""
    from theralab.discovery.dti import read_fasta_or_sequence

    path = Path(text)
    try:
        is_file = len(text) < 1024 and path.is_file()
    except OSError:  # a long pasted sequence is not a valid file name
        is_file = False
    if is_file:
        return read_fasta_or_sequence(path.read_text(errors="replace"), where=str(path))
    return read_fasta_or_sequence(text)


def _register(wanted: bool, name: str, output: Path) -> None:
    """With ``--register``, copy the model folder ``output`` into the user model registry and say where."""
    if not wanted:
        return
    from theralab.models.registry import register_dir

    err_console.print(f"registered as {name} -> {register_dir(output)}")


@app.command("train")
def train(
    data: str = typer.Argument(..., help=DATA_HELP),
    output: Path = typer.Option(..., "-o", "--output", help="model directory to write (checkpoints go inside)"),
    model: str = typer.Option("graph", "--model", help="graph (GIN + protein CNN/k-mers), cnn (DeepDTA) or baseline"),
    split: str = typer.Option("random", "--split", help="random, setting1 (davis/kiba only), cold-drug, cold-target, "
                                                       "cold-both; the test part is scored, never trained on"),
    epochs: int = typer.Option(100, "--epochs", min=1, help="maximum epochs per member"),
    patience: int = typer.Option(10, "--patience", min=1, help="stop after this many epochs without a better "
                                                               "validation MSE"),
    batch_size: int = typer.Option(256, "--batch-size", min=2),
    lr: float = typer.Option(5e-4, "--lr"),
    members: int = typer.Option(1, "--members", min=1, max=10, help="ensemble size; their spread is the uncertainty"),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (uses a GPU when torch sees one)"),
    max_minutes: float | None = typer.Option(None, "--max-minutes", help="wall-clock budget per member"),
    network: str = typer.Option("{}", "--network", help='architecture overrides as JSON, e.g. \'{"protein": "kmer"}\''),
    resume: bool = typer.Option(True, "--resume/--restart", help="continue from checkpoints in OUTPUT if present"),
    data_root: Path = typer.Option(Path("../shared/data/discovery"), "--data-root",
                                   help="folder holding dti_davis/ and dti_kiba/"),
    name: str | None = typer.Option(None, "--name", help="registry name (default dti-<model>-<data>)"),
    register: bool = typer.Option(True, "--register/--no-register", help="copy into the model registry"),
) -> None:
    """Train a model with checkpoints every epoch, report test CI/MSE, and save it with its card.

    Interrupt it at any time: run the same command again and it resumes from the last epoch.
    """
    import torch

    from theralab.discovery.dti import DTIModel, TrainConfig, load_benchmark, read_pairs_csv, regression_report
    from theralab.discovery.dti import split_pairs as do_split
    from theralab.discovery.dti.benchmark import predict_rows
    from theralab.errors import InputError

    torch.set_num_threads(1)
    try:
        overrides = json.loads(network)
    except json.JSONDecodeError as exc:
        raise InputError(f"--network is not JSON: {exc}", where="--network") from None
    if data.lower() in ("davis", "kiba"):
        dataset = load_benchmark(data, data_root)
        setting1_root = data_root / f"dti_{data.lower()}"
    else:
        dataset, bad = read_pairs_csv(data)
        setting1_root = None
        for b in bad[:10]:
            err_console.print(f"[yellow]skipped row {b.row}:[/yellow] {b.reason}")
        if len(bad) > 10:
            err_console.print(f"[yellow]... and {len(bad) - 10} more skipped rows[/yellow]")
    tr, va, te = do_split(dataset, split, seed=seed, setting1_root=setting1_root)
    cfg = TrainConfig(model=model, epochs=epochs, patience=patience, batch_size=batch_size, lr=lr, members=members,
                      seed=seed, device=device, max_minutes=max_minutes, network=overrides)
    err_console.print(f"{dataset.name}: {len(tr)} train, {len(va)} validation, {len(te)} test pairs ({split})")
    with progress_bar() as bar:
        task = bar.add_task(f"training {model}", total=1000)

        def report(frac: float, message: str) -> None:
            bar.update(task, completed=int(1000 * frac), description=message[:60])

        trained, logs = DTIModel.fit(dataset, tr, va, cfg, checkpoint_dir=output / "checkpoints", resume=resume,
                                     progress=report)
    metrics = {"split": split}
    if len(te) > 1:
        metrics.update({f"test_{k}": v for k, v in
                        regression_report(dataset.y[te], predict_rows(trained, dataset, te)).items()})
    retrain = (f"theralab dti train {data} -o DIR --model {model} --split {split} --epochs {epochs} "
               f"--members {members} --seed {seed} --lr {lr} --batch-size {batch_size} --network '{network}'")
    card = trained.save(output, name=name, metrics=metrics, retrain=retrain)
    table = Table(title=f"{card.name} ({split} split)")
    for key in ("test_ci", "test_mse", "test_pearson", "test_rm2", "test_n"):
        table.add_column(key)
    table.add_row(*(str(metrics.get(k, "-")) for k in ("test_ci", "test_mse", "test_pearson", "test_rm2", "test_n")))
    console.print(table)
    for log in logs:
        err_console.print(f"member {log['member'] + 1}: " + ", ".join(
            f"{k} {v}" for k, v in log.items() if k in ("epochs_run", "best_epoch", "stopped", "trees", "minutes")))
    _register(register, card.name, output)


@app.command("predict")
def predict(
    input: Path = typer.Argument(..., help="molecules: SMILES (.smi/.txt), CSV/TSV, SDF or Parquet"),
    target_sequence: str = typer.Option(..., "--target-sequence", "-t",
                                        help="a FASTA file, or the protein sequence itself"),
    output: Path = typer.Option(..., "-o", "--output", help="ranked table: .csv, .tsv or .parquet"),
    model: str = typer.Option("dti-graph-davis", "--model", "-m", help="registered DTI model name or directory"),
    smiles_column: str | None = typer.Option(None, "--smiles-column"),
    id_column: str | None = typer.Option(None, "--id-column"),
    top: int = typer.Option(10, "--top", min=0, help="rows to print"),
) -> None:
    """Rank every molecule of INPUT against one protein: affinity, ensemble spread, domain flag.

    'in_domain' is true when the nearest training drug has Tanimoto >= 0.4 and the target's 3-mer
    similarity to a training target is >= 0.5; outside it, trust the ranking less.
    """
    from theralab.chem.io import MoleculeReader, write_table
    from theralab.discovery.dti import load_dti
    from theralab.models.base import resolve_model_dir

    target_name, sequence = _read_target(target_sequence)
    dti = load_dti(resolve_model_dir(model))
    records = list(MoleculeReader(input, smiles_column=smiles_column, id_column=id_column))
    with console.status(f"scoring {len(records)} molecules against {target_name} ({len(sequence)} residues)"):
        table = dti.rank(sequence, [r.smiles for r in records], ids=[r.id for r in records])
    write_table(table, output)
    shown = Table(title=f"{dti.card.name} vs {target_name} ({dti.unit})")
    for col in ("rank", "id", "affinity", "affinity_std", "drug_similarity", "in_domain", "error"):
        shown.add_column(col)
    for _, row in table.head(top).iterrows():
        shown.add_row(str(row["rank"]), str(row["id"]), f"{row['affinity']:.2f}", f"{row['affinity_std']:.2f}",
                      f"{row['drug_similarity']:.2f}", str(row["in_domain"]), row["error"][:40])
    if top:
        console.print(shown)
    bad = int((table["error"] != "").sum())
    err_console.print(f"ranked {len(table) - bad} of {len(table)} molecules -> {output}"
                      + (f" ({bad} rows with an 'error')" if bad else ""))
    if bad == len(table):
        raise typer.Exit(2)


@app.command("bind")
def bind(
    model: str = typer.Argument(..., help="registered DTI model name or directory"),
    target_sequence: str = typer.Option(..., "--target-sequence", "-t", help="a FASTA file, or the sequence"),
    output: Path = typer.Option(..., "-o", "--output", help="new model directory"),
    name: str | None = typer.Option(None, "--name", help="registry name (default <model>-<target>)"),
    register: bool = typer.Option(True, "--register/--no-register"),
) -> None:
    """Fix a target into a copy of MODEL so it becomes a screening score.

    Then name it in a screening run file: [[models]] name = "<name>", column = "affinity".
    """
    from theralab.discovery.dti import bind_model

    target_name, sequence = _read_target(target_sequence)
    card = bind_model(model, sequence, output, target_name=target_name, name=name)
    err_console.print(f"bound {model} to {target_name} ({len(sequence)} residues) -> {output}")
    _register(register, card.name, output)


@app.command("benchmark")
def benchmark(
    dataset: str = typer.Argument(..., help="davis or kiba"),
    models: str = typer.Option("baseline,graph,cnn", "--models", help="comma list"),
    splits: str = typer.Option("setting1,cold-drug,cold-target,cold-both", "--splits", help="comma list"),
    seed: int = typer.Option(0, "--seed"),
    max_minutes: float = typer.Option(10.0, "--max-minutes", help="wall-clock budget per deep model"),
    epochs: int = typer.Option(100, "--epochs", min=1),
    device: str = typer.Option("cpu", "--device"),
    full_size: bool = typer.Option(False, "--full-size", help="paper-sized networks (use with --device cuda)"),
    data_root: Path = typer.Option(Path("../shared/data/discovery"), "--data-root"),
) -> None:
    """Setting-1 and cold-split test CI / MSE for each model, beside the published anchors."""
    import torch

    from theralab.discovery.dti import load_benchmark
    from theralab.discovery.dti.benchmark import ANCHORS, run_benchmark

    torch.set_num_threads(1)
    data = load_benchmark(dataset, data_root)
    table = Table(title=f"{dataset}: test CI / MSE")
    for col in ("model", "split", "CI", "MSE", "n", "minutes", "source"):
        table.add_column(col)
    runs = [(m, s) for m in models.split(",") for s in splits.split(",")]
    with progress_bar() as bar:
        task = bar.add_task("benchmark", total=len(runs))
        for kind, split in runs:
            bar.update(task, description=f"{kind} {split}")
            row = run_benchmark(dataset, data_root, kind, split, seed=seed, full_size=full_size, data=data,
                                epochs=epochs, max_minutes=max_minutes, device=device)
            table.add_row(kind, split, f"{row['ci']:.3f}", f"{row['mse']:.3f}", str(row["n"]), str(row["minutes"]),
                          f"ours ({device})")
            bar.advance(task)
    for name, (ci, m) in ANCHORS[dataset.lower()].items():
        table.add_row(name, "setting1", f"{ci:.3f}", f"{m:.3f}", "", "", "published")
    console.print(table)
