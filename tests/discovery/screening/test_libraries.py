"""Registered libraries: standardised, de-duplicated by InChIKey, indexed, reused by a screen."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from theralab.cli.main import app
from theralab.discovery.screening.libraries import library_path, list_libraries, register_library
from theralab.errors import ConflictError, InputError, NotFoundError
from theralab.runtime import jobs
from theralab.runtime.executors import LocalExecutor

runner = CliRunner(env={"COLUMNS": "300"})


def _library(tmp_path):
    from theralab.demo import write_demo_library

    path = write_demo_library(tmp_path / "lib.csv")
    frame = pd.read_csv(path)
    # the same aspirin twice more: once as written, once as its sodium salt (standardised to aspirin)
    extra = pd.DataFrame({"id": ["aspirin-copy", "aspirin-na"], "source": ["dup", "salt"],
                          "smiles": ["CC(=O)Oc1ccccc1C(=O)O", "CC(=O)Oc1ccccc1C(=O)[O-].[Na+]"]})
    pd.concat([frame, extra]).to_csv(path, index=False)
    return path, len(frame) + 2


def test_register_collapse_index_and_reuse(tl_env, tmp_path):
    path, rows = _library(tmp_path)
    manifest = register_library("demo", path)
    assert manifest["rows"] == rows and manifest["invalid"] == 2
    assert manifest["duplicates"] == 2 and manifest["unique"] == rows - 4
    root = library_path("demo")
    dups = pd.read_csv(root / "duplicates.csv")
    assert set(dups["id"]) == {"aspirin-copy", "aspirin-na"} and set(dups["kept_id"]) == {"aspirin"}
    assert len(pd.read_parquet(root / "molecules.parquet")) == manifest["unique"]
    assert json.loads((root / "index" / "manifest.json").read_text())["count"] == manifest["unique"]
    assert [lib["name"] for lib in list_libraries()] == ["demo"]
    with pytest.raises(ConflictError):
        register_library("demo", path)
    with pytest.raises(InputError, match="not allowed"):
        register_library("../evil", path)
    with pytest.raises(NotFoundError, match="registered: demo"):
        library_path("other")

    config = {"run": {"library": "demo", "output_dir": str(tmp_path / "out"), "chunk_size": 40},
              "similarity": {"actives": ["CC(=O)Nc1ccc(O)cc1"]}, "diversity": {"method": "none", "top_n": 5}}
    job = jobs.run_job(jobs.create_job("screen.run", config), LocalExecutor(1))
    funnel = json.loads((tmp_path / "out" / "funnel.json").read_text())
    assert job["status"] == "succeeded" and funnel["input rows"] == manifest["unique"]
    assert funnel["invalid"] == 0 and funnel["duplicates (same InChIKey)"] == 0


def test_cli_library_add_and_list(tl_env, tmp_path):
    path, _rows = _library(tmp_path)
    result = runner.invoke(app, ["screen", "library", "add", "demo", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 duplicates collapsed" in result.output
    listing = runner.invoke(app, ["screen", "library", "list"])
    assert "demo" in listing.output and "morgan2/2048" in listing.output
    again = runner.invoke(app, ["screen", "library", "add", "demo", str(path)])
    assert again.exit_code == 2 and "already registered" in again.output
