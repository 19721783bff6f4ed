"""``theralab users team-add|team-remove|teams`` and the demo's care team."""

from __future__ import annotations

from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner(env={"COLUMNS": "300"})


def test_demo_staff_see_the_demo_patients_and_teams_are_managed_from_the_cli(tl_env):
    from theralab.privacy import careteam
    from theralab.privacy.deps import Principal
    from theralab.runtime.db import session_scope

    assert runner.invoke(app, ["users", "create", "cleo", "--role", "clinician"]).exit_code == 0
    assert runner.invoke(app, ["demo", "load", "--patients", "4"]).exit_code == 0
    cleo = Principal("cleo", frozenset({"clinician"}), care_scoped=True)
    with session_scope() as session:
        demo_patients = careteam.team_patients(session, "cleo")
        assert len(demo_patients) == 4 and cleo.visible_patients(session) == demo_patients
        one = sorted(demo_patients)[0]
    assert cleo.may_see_patient(one) and not cleo.may_see_patient("someone-else")
    added = runner.invoke(app, ["users", "team-add", "night", "-m", "dan", "-p", one])
    assert added.exit_code == 0 and "1 new patient" in added.output
    listed = runner.invoke(app, ["users", "teams"])
    assert "demo-ward" in listed.output and "night" in listed.output and "dan" in listed.output
    assert runner.invoke(app, ["users", "team-remove", "night", "-m", "dan"]).exit_code == 0
    with session_scope() as session:
        assert careteam.team_patients(session, "dan") == set()
