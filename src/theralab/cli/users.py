"""``theralab users``: local accounts and roles."""

from __future__ import annotations

import secrets

import typer
from rich.table import Table

from theralab.cli._common import App, console

app = App(help="Local users. Roles: admin, researcher, clinician, patient.", no_args_is_help=True)


@app.command()
def create(
    username: str,
    role: list[str] = typer.Option(["researcher"], "--role", "-r", help="role; repeat for several"),
    password: str = typer.Option(None, help="password (default: generate one and print it once)"),
) -> None:
    """Create a user. Without --password a strong one-time password is generated and printed."""
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    generated = password is None
    password = password or secrets.token_urlsafe(12)
    with session_scope() as session:
        create_user(session, username, password, role, must_change_password=generated)
    console.print(f"created [bold]{username}[/bold] with roles {', '.join(role)}")
    if generated:
        console.print(f"one-time password: [bold]{password}[/bold] (it must be changed at the first login)")


@app.command("set-password")
def set_password_cmd(username: str, password: str = typer.Option(..., prompt=True, hide_input=True)) -> None:
    """Change a user's password."""
    from theralab.privacy.auth import set_password
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        set_password(session, username, password)
    console.print("password changed")


@app.command("list")
def list_users() -> None:
    """List users and their roles."""
    from sqlalchemy import select

    from theralab.privacy.tables import User
    from theralab.runtime.db import session_scope

    table = Table("user", "roles", "active", "created")
    with session_scope() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            table.add_row(user.username, user.roles, str(user.active), user.created_at.isoformat(timespec="seconds"))
    console.print(table)


@app.command("team-add")
def team_add(
    team: str,
    member: list[str] = typer.Option([], "--member", "-m", help="user name to put on the team; repeat"),
    patient: list[str] = typer.Option([], "--patient", "-p", help="patient id under the team's care ('*': all)"),
) -> None:
    """Put users and patients on a care team (a clinician or researcher sees only their teams' patients)."""
    from theralab.privacy import audit, careteam
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        for name in member:
            careteam.add_member(session, team, name, by="cli")
        added = careteam.add_patients(session, team, patient, by="cli") if patient else 0
    audit.record_cli("careteam.add", resource_type="CareTeam", resource_id=team)
    console.print(f"team [bold]{team}[/bold]: {len(member)} member(s) given, {added} new patient(s)")


@app.command("team-remove")
def team_remove(
    team: str,
    member: list[str] = typer.Option([], "--member", "-m", help="user name to take off the team; repeat"),
    patient: list[str] = typer.Option([], "--patient", "-p", help="patient id to take off the team; repeat"),
) -> None:
    """Take users or patients off a care team (effective for the next request)."""
    from theralab.privacy import audit, careteam
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        gone = sum(careteam.remove_member(session, team, m) for m in member)
        gone += sum(careteam.remove_patient(session, team, p) for p in patient)
    audit.record_cli("careteam.remove", resource_type="CareTeam", resource_id=team)
    console.print(f"team [bold]{team}[/bold]: {gone} removed")


@app.command("teams")
def list_teams() -> None:
    """List care teams, their members and how many patients each has."""
    from theralab.privacy import careteam
    from theralab.runtime.db import session_scope

    table = Table("team", "members", "patients")
    with session_scope() as session:
        for team in careteam.teams(session):
            table.add_row(str(team["team"]), ", ".join(team["members"]), str(team["patients"]))  # type: ignore[arg-type]
    console.print(table)
