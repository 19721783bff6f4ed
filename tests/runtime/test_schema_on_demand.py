"""A command that needs tables works on a new data folder; an outdated schema says what to run."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    from theralab.runtime.db import reset_engine
    from theralab.settings import reset_settings

    monkeypatch.setenv("THERALAB_DATA_DIR", str(tmp_path / "new"))
    monkeypatch.delenv("THERALAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("THERALAB_WORKERS", "1")
    reset_settings()
    reset_engine()
    yield tmp_path
    reset_engine()
    reset_settings()


def test_screen_run_on_a_new_data_folder(fresh):
    from theralab.cli.main import app
    from theralab.runtime import migrate

    (fresh / "lib.smi").write_text("smiles id\nCCO ethanol\nc1ccccc1O phenol\n")
    (fresh / "run.toml").write_text('[run]\nlibrary = "lib.smi"\noutput_dir = "out"\n[diversity]\nmethod = "none"\n')
    result = CliRunner().invoke(app, ["screen", "run", str(fresh / "run.toml")])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and (fresh / "out" / "hits.csv").exists()
    assert migrate.current() == migrate.head()


def test_outdated_schema_names_the_command(fresh):
    from theralab.errors import TheralabError
    from theralab.runtime import migrate
    from theralab.runtime.db import get_engine, reset_engine

    migrate.upgrade(revision="0001")  # an installation made by an older theralab
    reset_engine()
    with pytest.raises(TheralabError) as err:
        get_engine()
    assert "theralab db upgrade" in err.value.hint and migrate.head() in err.value.message
    migrate.upgrade()
    reset_engine()
    assert migrate.ensure_schema(get_engine()) == "current"


def test_tables_without_alembic_are_left_alone(tmp_path):
    from sqlalchemy import create_engine, text

    from theralab.runtime import migrate

    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE mine (x INTEGER)"))
    assert migrate.ensure_schema(engine) == "unmanaged"
