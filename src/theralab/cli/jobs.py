"""``theralab jobs``: run, watch, cancel and resume long work."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from theralab.cli._common import App, console, progress_bar

app = App(help="Jobs: long work split into chunks; an interrupted job resumes where it stopped.",
                  no_args_is_help=True)


def _run_with_bar(job_id: str, executor: str | None) -> dict:
    from theralab.runtime.jobs import run_job

    with progress_bar() as bar:
        task = bar.add_task(f"job {job_id[:8]}", total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_job(job_id, executor_spec=executor, on_progress=on_progress)


@app.command("list")
def list_cmd(limit: int = typer.Option(20, help="how many")) -> None:
    """Latest jobs first."""
    from theralab.runtime.jobs import list_jobs

    table = Table("id", "kind", "status", "progress", "created", "message")
    for job in list_jobs(limit=limit):
        table.add_row(job["id"], job["kind"], job["status"], f"{job['progress']:.0%}", job["created_at"][:19],
                      job["message"][:60])
    console.print(table)


@app.command()
def show(job_id: str) -> None:
    """Show a job as JSON."""
    from theralab.runtime.jobs import get_job

    console.print_json(json.dumps(get_job(job_id)))


@app.command()
def submit(
    kind: str,
    params: str = typer.Option("{}", help='parameters as JSON, e.g. \'{"input": "lib.csv"}\''),
    executor: str = typer.Option(None, help="'local' or a Dask scheduler address (default: settings)"),
) -> None:
    """Create a job and run it here with a progress bar (Ctrl-C leaves it resumable)."""
    from theralab.errors import InputError
    from theralab.runtime.jobs import create_job

    try:
        parsed = json.loads(params)
    except json.JSONDecodeError as exc:
        raise InputError(f"--params is not valid JSON: {exc.msg}", where=f"--params column {exc.colno}") from exc
    job_id = create_job(kind, parsed, owner="cli")
    console.print(f"job [bold]{job_id}[/bold]")
    job = _run_with_bar(job_id, executor)
    console.print(f"{job['status']}: {job['result_location'] or job['message']}")


@app.command()
def resume(job_id: str, executor: str = typer.Option(None, help="'local' or a Dask scheduler address")) -> None:
    """Resume an interrupted, failed or cancelled job; finished chunks are not redone."""
    job = _run_with_bar(job_id, executor)
    console.print(f"{job['status']}: {job['result_location'] or job['message']}")


@app.command()
def cancel(job_id: str) -> None:
    """Ask a running job to stop (finished chunks are kept)."""
    from theralab.runtime.jobs import cancel_job

    cancel_job(job_id)
    console.print("cancel requested")


@app.command()
def selftest(
    n: int = typer.Option(1000, help="how many integers to square"),
    executor: str = typer.Option(None, help="'local' or a Dask scheduler address"),
) -> None:
    """Check the executor end to end with a tiny built-in job."""
    from theralab.runtime.jobs import create_job

    job_id = create_job("selftest", {"n": n, "chunk_size": max(1, n // 20)}, owner="cli")
    job = _run_with_bar(job_id, executor)
    console.print(f"{job['status']}: {job['result_location']}")
