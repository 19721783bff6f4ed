"""RDKit's error messages become part of the row's reason and never reach the console."""

from __future__ import annotations

import pytest

from theralab.chem.io import parse_smiles
from theralab.chem.rdkit_log import rdkit_errors


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

    with rdkit_errors() as rdkit:
        assert Chem.MolFromSmiles("[H]") is not None  # a warning: blocked
        assert Chem.MolFromSmiles("c1cc1") is None  # an error: collected once
    assert rdkit.messages == ["Can't kekulize mol.  Unkekulized atoms: 0 1 2"]
    assert capfd.readouterr().err == ""


def test_valid_smiles_has_no_reason() -> None:
    mol, reason = parse_smiles("CCO")
    assert mol is not None and reason is None


def test_a_long_non_ascii_input_that_rdkit_clips_mid_character_still_gives_a_reason() -> None:
    """Found by Hypothesis in CI: RDKit echoes a long input clipped inside a multi-byte character."""
    for n in range(150, 260):
        mol, reason = parse_smiles("C(" + "é" * n)
        assert mol is None and reason is not None and reason.startswith("malformed SMILES (syntax error)")
