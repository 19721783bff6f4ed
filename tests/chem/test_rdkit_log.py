"""RDKit's error messages become part of the row's reason, its warnings part of the row's warnings;
neither reaches the console."""

from __future__ import annotations

import pytest

from theralab.chem.io import parse_smiles
from theralab.chem.rdkit_log import rdkit_messages


@pytest.mark.parametrize(
    ("smiles", "detail"),
    [
        ("C1CCC", "unclosed ring"),
        ("CC)C", "extra close parentheses; check for mistakes around position 3"),
        ("C1CC(", "check for mistakes around position 5"),
    ],
)
def test_syntax_errors_carry_rdkits_reason(smiles: str, detail: str, capfd: pytest.CaptureFixture[str]) -> None:
    mol, reason = parse_smiles(smiles)
    assert mol is None
    assert reason == f"malformed SMILES (syntax error): {smiles} (RDKit: {detail})"
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_warnings_and_errors_are_silent_and_errors_are_collected(capfd: pytest.CaptureFixture[str]) -> None:
    from rdkit import Chem

    with rdkit_messages() as rdkit:
        assert Chem.MolFromSmiles("[H]") is not None  # a warning: collected, not printed
        assert Chem.MolFromSmiles("c1cc1") is None  # an error: collected once
    assert rdkit.messages == ["Can't kekulize mol.  Unkekulized atoms: 0 1 2"]
    assert rdkit.warnings == ["WARNING: not removing hydrogen atom without neighbors"]
    assert capfd.readouterr().err == ""


def test_a_warning_on_a_valid_smiles_is_returned_with_the_molecule(capfd: pytest.CaptureFixture[str]) -> None:
    """A salt written with a bare proton parses; RDKit warns, and the warning stays with the row."""
    said: list[str] = []
    mol, reason = parse_smiles("CC[NH3+].[H+]", said)
    assert mol is not None and reason is None
    assert said == ["WARNING: not removing hydrogen atom without neighbors"]
    assert capfd.readouterr().err == ""


def test_blocks_nest_and_other_threads_are_not_collected(capfd: pytest.CaptureFixture[str]) -> None:
    import threading

    from rdkit import Chem

    with rdkit_messages() as outer:
        with rdkit_messages() as inner:
            Chem.MolFromSmiles("[H]")
        Chem.MolFromSmiles("C.[H+]")
        seen: list[list[str]] = []

        def other() -> None:  # a thread without an open block of its own
            with rdkit_messages() as mine:
                Chem.MolFromSmiles("[2H]")
            seen.append(mine.warnings)

        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
    assert inner.warnings == ["WARNING: not removing hydrogen atom without neighbors"]
    assert outer.warnings == ["WARNING: not removing hydrogen atom without neighbors"]  # once, from the outer call
    assert seen == [["WARNING: not removing hydrogen atom without neighbors"]]
    assert capfd.readouterr().err == ""


def test_valid_smiles_has_no_reason() -> None:
    mol, reason = parse_smiles("CCO")
    assert mol is not None and reason is None


def test_a_long_non_ascii_input_that_rdkit_clips_mid_character_still_gives_a_reason() -> None:
    """Found by Hypothesis in CI: RDKit echoes a long input clipped inside a multi-byte character."""
    for n in range(150, 260):
        mol, reason = parse_smiles("C(" + "é" * n)
        assert mol is None and reason is not None and reason.startswith("malformed SMILES (syntax error)")


def test_indexing_and_searching_leave_rdkit_warnings_collectable(tmp_path):
    """Building a search index in this process (one worker) and parsing a query must not switch
    RDKit's logging off for the process: later reads still collect their warnings per row."""
    from theralab.chem.io import parse_smiles
    from theralab.chem.search.index import build_index
    from theralab.chem.search.query import parse_query

    source = tmp_path / "lib.smi"
    source.write_text("CCO a\nC1CC b\nc1ccccc1O c\n")
    for step in (lambda: build_index(source, tmp_path / "index", workers=1), lambda: parse_query("c1ccccc1")):
        step()
        warnings: list[str] = []
        assert parse_smiles("CC[NH3+].[H+]", warnings)[0] is not None
        assert warnings == ["WARNING: not removing hydrogen atom without neighbors"]


def test_a_block_collects_warnings_even_when_something_switched_them_off():
    """RDKit's log switches are process-wide: a library's ``DisableLog`` must not silence the rows'
    warnings, and what the block switched on is switched off again after it."""
    from rdkit import RDLogger, rdBase

    from theralab.chem.io import parse_smiles

    RDLogger.DisableLog("rdApp.warning")
    try:
        warnings: list[str] = []
        assert parse_smiles("CC[NH3+].[H+]", warnings)[0] is not None
        assert warnings == ["WARNING: not removing hydrogen atom without neighbors"]
        assert "rdApp.warning:disabled" in rdBase.LogStatus()
    finally:
        RDLogger.EnableLog("rdApp.warning")
