"""``theralab demo``: load the seeded demo data and the first admin account."""

from __future__ import annotations

import secrets

import typer

from theralab.cli._common import App, console

app = App(help="Demo data made by theralab itself (seeded, reproducible).", no_args_is_help=True)


@app.command()
def load(
    seed: int = typer.Option(7, help="random seed (same seed, same data)"),
    patients: int = typer.Option(200, help="number of synthetic patients"),
    admin: str = typer.Option("admin", help="name of the admin account to create if missing"),
) -> None:
    """Apply migrations, load the demo library and patients, and create the admin account."""
    from sqlalchemy import select

    from theralab.demo import load_demo
    from theralab.privacy.auth import create_user, set_password
    from theralab.privacy.tables import User
    from theralab.runtime import migrate
    from theralab.runtime.db import session_scope
    from theralab.settings import get_settings

    migrate.upgrade()
    report = load_demo(seed=seed, patients=patients)
    for key, value in report.items():
        console.print(f"{key}: {value}")
    password = secrets.token_urlsafe(12)
    with session_scope() as session:
        exists = session.scalar(select(User).where(User.username == admin)) is not None
        if exists:
            set_password(session, admin, password, one_time=True)
        else:
            create_user(session, admin, password, ["admin"], must_change_password=True)
    settings = get_settings()
    console.print(
        f"\nLog in at http://{settings.host}:{settings.port}/login as [bold]{admin}[/bold] "
        f"with the one-time password [bold]{password}[/bold]\n"
        f"(it works once: the first login asks for a new password; a new one is printed each time this runs)"
    )
