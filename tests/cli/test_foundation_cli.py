"""The foundation's CLI groups: db, users, demo, jobs, models."""

from __future__ import annotations

import re

import pandas as pd
from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner(env={"COLUMNS": "300"})


def test_help_lists_the_groups():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("db", "users", "demo", "jobs", "models", "chem", "serve"):
        assert group in result.output


def test_db_upgrade_users_and_demo(tl_env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    created = runner.invoke(app, ["users", "create", "ana", "--role", "clinician", "--role", "researcher"])
    assert created.exit_code == 0 and "one-time password" in created.output
    again = runner.invoke(app, ["users", "create", "ana"])
    assert again.exit_code == 2 and "already exists" in again.output
    listed = runner.invoke(app, ["users", "list"])
    assert "clinician,researcher" in listed.output
    demo = runner.invoke(app, ["demo", "load", "--patients", "5"])
    assert demo.exit_code == 0, demo.output
    password = re.search(r"one-time password (\S+)", demo.output).group(1)
    from theralab.privacy.auth import authenticate
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        assert "admin" in authenticate(session, "admin", password).role_set
    library = pd.read_csv(tl_env.data_dir / "libraries" / "demo_compounds.csv")
    assert len(library) > 100 and "aspirin" in set(library["id"])


def test_jobs_selftest_and_listing(tl_env):
    result = runner.invoke(app, ["jobs", "selftest", "--n", "50"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    listing = runner.invoke(app, ["jobs", "list"])
    assert "selftest" in listing.output and "succeeded" in listing.output
    missing = runner.invoke(app, ["jobs", "show", "nope"])
    assert missing.exit_code == 2 and "no job" in missing.output
    bad = runner.invoke(app, ["jobs", "submit", "selftest", "--params", "{oops"])
    assert bad.exit_code == 2 and "not valid JSON" in bad.output


def test_models_list_and_show_unknown(tl_env):
    assert runner.invoke(app, ["models", "list"]).exit_code == 0
    unknown = runner.invoke(app, ["models", "show", "nope"])
    assert unknown.exit_code == 2 and "no registered model" in unknown.output


def test_demo_patients_land_in_the_patient_model(tl_env):
    from sqlalchemy import func, select

    from theralab.ehr.tables import PatientRow as Patient
    from theralab.runtime.db import session_scope

    assert runner.invoke(app, ["demo", "load", "--patients", "8", "--seed", "3"]).exit_code == 0
    assert runner.invoke(app, ["demo", "load", "--patients", "8", "--seed", "3"]).exit_code == 0  # idempotent
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 8
