"""``cli._common``: every command of an ``App`` reports a TheralabError in one line, exit status 2."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from theralab.cli._common import App, write_json
from theralab.errors import InputError

app = App(no_args_is_help=True)


@app.command()
def boom() -> None:
    raise InputError("dose must be positive", where="--dose", hint="e.g. --dose 100")


@app.command()
def fine() -> None:
    print("done")


def test_a_theralab_error_is_one_red_line_and_exit_2_not_a_traceback():
    result = CliRunner().invoke(app, ["boom"])
    assert result.exit_code == 2
    assert "dose must be positive" in result.output and "Traceback" not in result.output


def test_a_command_that_succeeds_is_untouched():
    result = CliRunner().invoke(app, ["fine"])
    assert result.exit_code == 0 and "done" in result.output


def test_write_json_writes_only_when_a_path_is_given(tmp_path):
    write_json(None, {"a": 1})
    assert list(tmp_path.iterdir()) == []
    write_json(tmp_path / "out.json", {"a": 1})
    assert json.loads((tmp_path / "out.json").read_text()) == {"a": 1}
