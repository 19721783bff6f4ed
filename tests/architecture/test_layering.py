"""The house's rules, read from the source: no import cycles, arrows down only, no private reach-ins.

Foundations (settings, errors, runtime, privacy) -> core libraries (chem, nlp, models, ehr) ->
domains (discovery, development, trials, precision, monitoring) -> surfaces (api, web, cli) ->
the composition root (theralab.app). See docs/CONVENTIONS.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("importgraph", HERE / "importgraph.py")
importgraph = importlib.util.module_from_spec(_spec)
sys.modules["importgraph"] = importgraph
_spec.loader.exec_module(importgraph)

GRAPH = importgraph.build()


def test_the_graph_is_read() -> None:
    assert len(GRAPH.modules) > 200 and len(GRAPH.imports) > 500


def test_no_import_cycles() -> None:
    assert importgraph.cycles(GRAPH) == []


def test_arrows_point_down_only() -> None:
    bad = [f"{i.source} -> {i.target} (line {i.line})" for i in importgraph.upward(GRAPH)]
    assert bad == []


def test_no_module_takes_another_modules_private_names() -> None:
    bad = [f"{i.source} -> {i.target} {i.names} (line {i.line})" for i in importgraph.private_imports(GRAPH)]
    assert bad == []


def test_api_and_web_do_not_import_each_other() -> None:
    crossing = [
        f"{i.source} -> {i.target}"
        for i in GRAPH.imports
        if (i.source.startswith("theralab.api") and i.target.startswith("theralab.web"))
        or (i.source.startswith("theralab.web") and i.target.startswith("theralab.api"))
    ]
    assert crossing == []


def test_the_checker_finds_what_it_checks(tmp_path: Path) -> None:
    """A made-up package with a cycle, an upward import and a private import is caught."""
    pkg = tmp_path / "theralab"
    (pkg / "chem").mkdir(parents=True)
    (pkg / "api").mkdir()
    for d in (pkg, pkg / "chem", pkg / "api"):
        (d / "__init__.py").write_text("")
    (pkg / "chem" / "a.py").write_text("from theralab.chem.b import _hidden\nfrom theralab.api import routes\n")
    (pkg / "chem" / "b.py").write_text("def _hidden():\n    from theralab.chem import a\n")
    (pkg / "api" / "routes.py").write_text("")
    graph = importgraph.build(tmp_path)
    assert importgraph.cycles(graph) == [["theralab.chem.a", "theralab.chem.b"]]
    assert [i.target for i in importgraph.upward(graph)] == ["theralab.api.routes"]
    assert [i.names for i in importgraph.private_imports(graph)] == [("_hidden",)]
