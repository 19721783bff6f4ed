"""``theralab db``: create or upgrade the database schema."""

from __future__ import annotations

import typer

from theralab.cli._common import console, friendly_errors

app = typer.Typer(help="Database schema: 'theralab db upgrade' applies every migration (safe to repeat).",
                  no_args_is_help=True)


@app.command()
@friendly_errors
def upgrade(url: str = typer.Option(None, help="database URL (default: THERALAB_DATABASE_URL or the SQLite file "
                                                "in the data dir)")) -> None:
    """Apply all Alembic migrations up to the latest schema."""
    from theralab.runtime import migrate

    migrate.upgrade(url)
    console.print(f"database at revision [bold]{migrate.current(url)}[/bold]")


@app.command()
@friendly_errors
def current(url: str = typer.Option(None, help="database URL")) -> None:
    """Print the schema revision of the database."""
    from theralab.runtime import migrate

    console.print(migrate.current(url) or "empty database (run 'theralab db upgrade')")
