"""A tiny made-up DTI set (6 drugs x 4 targets) shared by the dti tests: fast to train on."""

from __future__ import annotations

import numpy as np
import pytest

from theralab.discovery.dti import DTIData

DRUGS = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CN1CCC[C@H]1c1cccnc1", "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
         "O=C(O)c1ccccc1OC(C)=O"]


def _protein(seed: int, n: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), n))


TARGETS = [_protein(s, 40 + 10 * s) for s in range(4)]


@pytest.fixture(scope="session")
def tiny() -> DTIData:
    d, t = np.meshgrid(np.arange(len(DRUGS)), np.arange(len(TARGETS)), indexing="ij")
    d, t = d.ravel(), t.ravel()
    y = (5.0 + 0.5 * d + 0.8 * t).astype(np.float32)  # additive: learnable from either side
    return DTIData(DRUGS, TARGETS, d.astype(np.int64), t.astype(np.int64), y,
                   [f"D{i}" for i in range(len(DRUGS))], [f"T{i}" for i in range(len(TARGETS))], "tiny", "pKd")
