"""``theralab screen``: build fingerprint indexes of molecule libraries and search them.

Commands (one function each; add a new command by adding a decorated function):

* ``theralab screen index LIBRARY -o INDEX_DIR`` builds a popcount-sorted, memory-mapped index in
  parallel chunks; interrupt it any time and rerun the same command to resume.
* ``theralab screen search INDEX_DIR --query SMILES|FILE (--threshold 0.7 | --top 10)
  [--substructure SMARTS] [-o hits.csv]`` runs exact similarity and/or substructure searches.

Heavy imports (RDKit, numba, pyarrow) happen inside the commands so ``theralab --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from theralab.cli._common import App
from theralab.errors import InputError

app = App(
    help="Virtual screening: fingerprint indexes, similarity and substructure search, registered libraries, "
    "and resumable screening runs from a TOML file (local or Dask).",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)




@app.command("index")
def index_cmd(
    library: Path = typer.Argument(..., help="SMILES (.smi/.ism), CSV/TSV, Parquet or SDF file (.gz allowed)"),
    output: Path = typer.Option(..., "-o", "--output", help="index folder to create (or resume)"),
    fp: str = typer.Option("morgan2", help="fingerprint: morgan2, fmorgan2, rdkit, atompair, maccs"),
    bits: int = typer.Option(None, help="fingerprint length (default 2048; maccs 167)"),
    smiles_column: str = typer.Option(None, help="SMILES column of a CSV/Parquet file (guessed if omitted)"),
    id_column: str = typer.Option(None, help="id column (CSV/Parquet) or SDF property (default: row number)"),
    chunk_size: int = typer.Option(50_000, help="molecules per work unit (and per resume step)"),
    workers: int = typer.Option(None, help="worker processes (default: all cores)"),
    substructure: bool = typer.Option(True, help="also store pattern fingerprints for substructure search"),
    duplicates: bool = typer.Option(True, help="report repeated structures (costs ~30% of build time)"),
    fresh: bool = typer.Option(False, help="discard an unfinished build made with other settings"),
) -> None:
    """Build a fingerprint index of LIBRARY (resumable: rerun the same command after a crash)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from theralab.chem.search import build_index
    from theralab.chem.search.readers import estimate_rows

    total = estimate_rows(library) if library.is_file() else None
    columns = [TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("index", total=total)
        manifest = build_index(
            library,
            output,
            fp=fp,
            bits=bits,
            smiles_column=smiles_column,
            id_column=id_column,
            chunk_size=chunk_size,
            workers=workers,
            substructure=substructure,
            duplicates=duplicates,
            fresh=fresh,
            progress=lambda n: bar.advance(task, n),
        )
    table = Table(title=f"index {output}")
    for col in ("molecules", "invalid", "duplicates", "fingerprint", "seconds", "resumed chunks"):
        table.add_column(col)
    spec = manifest["fp"]
    table.add_row(
        f"{manifest['count']:,}",
        f"{manifest['invalid']:,}",
        f"{manifest['duplicates']:,}",
        f"{spec['name']} {spec['bits']} bits",
        f"{manifest.get('build_seconds', 0):.1f}",
        str(manifest.get("resumed_chunks", 0)),
    )
    console.print(table)
    if manifest["invalid"]:
        console.print(f"invalid rows and reasons: {output / 'invalid.csv'}")
    if manifest["duplicates"]:
        console.print(f"duplicates (kept, reported): {output / 'duplicates.csv'}")


def read_queries(query: str) -> list[str]:
    """A SMILES string, or every SMILES in a file (any library format the index reads)."""
    path = Path(query)
    if path.suffix and path.is_file():
        from theralab.chem.search.readers import iter_records

        _kind, records = iter_records(path)
        queries = [text for _o, _i, text in records]
        if not queries:
            raise InputError("the query file holds no SMILES", where=str(path))
        return queries
    return [query]


@app.command("search")
def search_cmd(
    index_dir: Path = typer.Argument(..., help="index folder made by 'theralab screen index'"),
    query: str = typer.Option(None, "--query", "-q", help="a SMILES, or a file of SMILES (one query per row)"),
    threshold: float = typer.Option(None, "--threshold", "-t", help="return every hit with Tanimoto >= this"),
    top: int = typer.Option(None, "--top", "-k", help="return the k most similar molecules"),
    substructure: str = typer.Option(None, "--substructure", "-s", help="SMARTS every hit must contain"),
    output: Path = typer.Option(None, "-o", "--output", help="write all hits to this CSV or Parquet file"),
    threads: int = typer.Option(2, help="threads for several queries"),
    max_hits: int = typer.Option(None, help="stop a pure substructure search after this many hits"),
    show: int = typer.Option(20, help="hits per query to print"),
) -> None:
    """Search an index by Tanimoto similarity (threshold or top-k) and/or substructure."""
    from theralab.chem.search import FingerprintIndex

    if threshold is not None and top is not None:
        raise InputError("give --threshold or --top, not both", where="--threshold/--top")
    if output is not None and output.suffix.lower() not in (".csv", ".tsv", ".parquet"):
        raise InputError(f"cannot write {output.name}", where="--output", hint="use a .csv, .tsv or .parquet name")
    if query is None and not substructure:
        raise InputError(
            "nothing to search for",
            where="--query",
            hint="give --query SMILES|FILE with --threshold/--top, or --substructure SMARTS",
        )
    index = FingerprintIndex.open(index_dir)
    if query is None:
        results = [index.substructure(substructure, max_hits=max_hits)]
    else:
        if threshold is None and top is None:
            raise InputError("say how to rank: --threshold T or --top K", where="--threshold/--top")
        results = index.search_many(
            read_queries(query), threshold=threshold, k=top, threads=threads, substructure=substructure
        )
    _report(results, show)
    if output is not None:
        _write(results, output)
        console.print(f"wrote {sum(len(r.hits) for r in results):,} hits to {output}")


def _report(results: list[Any], show: int) -> None:
    for res in results:
        table = Table(title=f"{res.query}: {len(res.hits):,} hits ({res.mode})")
        table.add_column("rank", justify="right")
        table.add_column("id")
        table.add_column("similarity", justify="right")
        table.add_column("smiles", overflow="fold")
        for rank, hit in enumerate(res.hits[:show], start=1):
            sim = "" if hit.similarity is None else f"{hit.similarity:.3f}"
            table.add_row(str(rank), hit.id, sim, hit.smiles)
        console.print(table)


def _write(results: list[Any], output: Path) -> None:
    import pandas as pd

    frame = pd.concat([r.to_frame() for r in results], ignore_index=True)
    suffix = output.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(output, index=False)
    else:
        frame.to_csv(output, index=False, sep="\t" if suffix == ".tsv" else ",")


@app.command("run")
def run_cmd(
    run_file: Path = typer.Argument(..., help="TOML run file (docs/screening-pipeline.md); unknown keys are errors"),
    executor: str = typer.Option(None, help="'local' (worker processes) or a Dask scheduler address tcp://host:8786"),
    resume: str = typer.Option(None, help="resume this job id instead of starting a new run"),
) -> None:
    """Run a screening pipeline as a resumable job: filters, alerts, similarity, models, desirability,
    diversity; writes hits.csv, hits.sdf, passed.parquet and report.html to the run's output_dir.

    Ctrl-C (or a crash) leaves finished chunks on disk: 'theralab screen run RUN.toml --resume JOB_ID'
    continues where it stopped.
    """
    from theralab.cli._common import progress_bar
    from theralab.discovery.screening import check_config, screen_summary
    from theralab.discovery.screening.config import load_config
    from theralab.runtime.jobs import create_job, get_job, run_job

    config = load_config(run_file)
    if resume is None:
        check_config(config)  # a mistake in the run file is reported here, before any job exists
    job_id = resume or create_job("screen.run", config.model_dump(), owner="cli")
    console.print(f"job [bold]{job_id}[/bold]")
    try:
        with progress_bar() as bar:
            task = bar.add_task("screening", total=None)
            job = run_job(job_id, executor_spec=executor,
                          on_progress=lambda done, total: bar.update(task, completed=done, total=total))
    except BaseException as exc:
        from theralab.errors import TheralabError

        state = get_job(job_id)
        # Only work that can continue is worth resuming: an interrupted or crashed run with a plan.
        if not isinstance(exc, TheralabError) and state.get("total_chunks"):
            err_console.print(f"{state.get('done_chunks', 0)} of {state['total_chunks']} chunks are done; "
                              f"continue with: theralab screen run {run_file} --resume {job_id}")
        raise
    funnel = screen_summary(job["result_location"])
    table = Table("step", "molecules")
    for step, count in funnel.items():
        table.add_row(str(step), str(count))
    console.print(table)
    console.print(f"hits: {job['result_location']}\nreport: {Path(job['result_location']).parent / 'report.html'}")


library_app = App(help="Registered libraries: standardised, de-duplicated and indexed once, reused by "
                          "every screen ('library = NAME' in a run file).", no_args_is_help=True)
app.add_typer(library_app, name="library")


@library_app.command("add")
def library_add(
    name: str = typer.Argument(..., help="library name (letters, digits, '.', '_', '-')"),
    source: Path = typer.Argument(..., help="SMILES/CSV/SDF/Parquet file (gz allowed)"),
    smiles_column: str = typer.Option(None, help="SMILES column of a CSV/Parquet file (guessed when omitted)"),
    id_column: str = typer.Option(None, help="identifier column"),
    standardize: bool = typer.Option(True, help="standardise before profiling and de-duplication"),
    replace: bool = typer.Option(False, help="replace a library of the same name"),
) -> None:
    """Register a library: profile, collapse duplicates by InChIKey, build the similarity index."""
    from theralab.cli._common import progress_bar
    from theralab.discovery.screening.libraries import register_library

    with progress_bar() as bar:
        task = bar.add_task("registering", total=1.0)

        def show(step: str, fraction: float | None) -> None:
            bar.update(task, description=step, completed=fraction or 0.0)

        manifest = register_library(name, source, smiles_column=smiles_column, id_column=id_column,
                                    standardize=standardize, replace=replace, progress=show)
    console.print(f"library [bold]{name}[/bold]: {manifest['rows']} rows, {manifest['unique']} unique, "
                  f"{manifest['duplicates']} duplicates collapsed, {manifest['invalid']} invalid "
                  f"(see {Path(manifest['molecules']).parent / 'invalid.csv'})")


@library_app.command("list")
def library_list() -> None:
    """Registered libraries with their counts and provenance."""
    from theralab.discovery.screening.libraries import list_libraries

    table = Table("name", "unique", "duplicates", "invalid", "fingerprint", "source", "created")
    for lib in list_libraries():
        table.add_row(lib["name"], str(lib["unique"]), str(lib["duplicates"]), str(lib["invalid"]),
                      f"{lib['fingerprint']['name']}/{lib['fingerprint']['bits']}", lib["source"], lib["created"][:19])
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
