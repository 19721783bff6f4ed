"""``theralab db``: create or upgrade the database schema."""

from __future__ import annotations

import typer

from theralab.cli._common import App, console

app = App(help="Database schema: 'theralab db upgrade' applies every migration (safe to repeat).",
                  no_args_is_help=True)


@app.command()
def upgrade(url: str = typer.Option(None, help="database URL (default: THERALAB_DATABASE_URL or the SQLite file "
                                                "in the data dir)")) -> None:
    """Apply all Alembic migrations up to the latest schema."""
    from theralab.runtime import migrate

    migrate.upgrade(url)
    console.print(f"database at revision [bold]{migrate.current(url)}[/bold]")


@app.command()
def current(url: str = typer.Option(None, help="database URL")) -> None:
    """Print the schema revision of the database."""
    from theralab.runtime import migrate

    console.print(migrate.current(url) or "empty database (run 'theralab db upgrade')")


@app.command()
def encrypt() -> None:
    """Rewrite identifier and genome columns with the first key of THERALAB_ENCRYPTION_KEY.

    Run after setting a key for the first time (rows written before are plain) or after rotating
    (rows under the old key then need only the new one).
    """
    from theralab.privacy import audit, crypto
    from theralab.runtime.db import session_scope

    if not crypto.enabled():
        console.print("THERALAB_ENCRYPTION_KEY is not set: nothing to encrypt with")
        raise typer.Exit(2)
    with session_scope() as session:
        done = crypto.reencrypt_all(session)
    audit.record_cli("db.encrypt", resource_type="Table", resource_id=",".join(sorted(done)))
    for table, rows in sorted(done.items()):
        console.print(f"{table}: {rows} rows rewritten")
