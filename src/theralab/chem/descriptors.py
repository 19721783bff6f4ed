"""Physicochemical descriptors, computed by RDKit's own functions so the numbers match RDKit exactly.

Every descriptor is one RDKit call (no re-implementation), listed in :data:`DESCRIPTORS` with the
function used. Two hydrogen-bond counts are reported because the literature uses both:

* ``hbd`` / ``hba``: ``rdMolDescriptors.CalcNumHBD`` / ``CalcNumHBA``, RDKit's SMARTS-based donor
  and acceptor definitions (the same as ``Lipinski.NumHDonors`` / ``NumHAcceptors``); use these
  to compare with other RDKit-based tools.
* ``hbd_lipinski`` / ``hba_lipinski``: ``CalcNumLipinskiHBD`` (NH + OH count) and
  ``CalcNumLipinskiHBA`` (N + O count), exactly the counts Lipinski et al. (1997) defined for the
  rule of five; the Lipinski rule set in :mod:`theralab.chem.filters` uses these.

The SA score is Ertl & Schuffenhauer's synthetic accessibility score (J Cheminform 2009, 1:8),
1 (easy) to 10 (hard), from RDKit Contrib ``SA_Score/sascorer.py`` loaded from
``RDConfig.RDContribDir``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import numpy as np
import pandas as pd
from rdkit import Chem, RDConfig
from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors

from theralab.errors import InputError


@lru_cache(maxsize=1)
def sascorer_module() -> ModuleType:
    """Load RDKit Contrib's ``sascorer`` once, without putting Contrib on ``sys.path``."""
    path = os.path.join(RDConfig.RDContribDir, "SA_Score", "sascorer.py")
    if not os.path.exists(path):
        raise InputError(
            "RDKit Contrib SA_Score/sascorer.py is not installed",
            where=path,
            hint="install the RDKit wheel from PyPI, which ships Contrib",
        )
    spec = importlib.util.spec_from_file_location("theralab_sascorer", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    module.readFragmentScores()
    return module


def sa_score(mol: Chem.Mol) -> float:
    """Synthetic accessibility score (1 easy .. 10 hard), RDKit Contrib ``sascorer.calculateScore``."""
    return float(sascorer_module().calculateScore(mol))


@dataclass(frozen=True)
class Descriptor:
    """One descriptor: column name, the RDKit function computing it, dtype, unit and meaning."""

    name: str
    func: Callable[[Chem.Mol], float]
    rdkit: str
    dtype: type
    description: str


DESCRIPTORS: tuple[Descriptor, ...] = (
    Descriptor("mw", Descriptors.MolWt, "Descriptors.MolWt", float, "average molecular weight (g/mol)"),
    Descriptor("exact_mw", Descriptors.ExactMolWt, "Descriptors.ExactMolWt", float, "monoisotopic mass (Da)"),
    Descriptor(
        "clogp",
        Crippen.MolLogP,
        "Crippen.MolLogP",
        float,
        "Wildman-Crippen logP (J Chem Inf Comput Sci 1999, 39, 868)",
    ),
    Descriptor("mr", Crippen.MolMR, "Crippen.MolMR", float, "Wildman-Crippen molar refractivity"),
    Descriptor(
        "tpsa",
        rdMolDescriptors.CalcTPSA,
        "rdMolDescriptors.CalcTPSA",
        float,
        "topological polar surface area, N and O only (Ertl 2000), A^2",
    ),
    Descriptor(
        "hbd",
        rdMolDescriptors.CalcNumHBD,
        "rdMolDescriptors.CalcNumHBD",
        int,
        "H-bond donors, RDKit SMARTS definition",
    ),
    Descriptor(
        "hba",
        rdMolDescriptors.CalcNumHBA,
        "rdMolDescriptors.CalcNumHBA",
        int,
        "H-bond acceptors, RDKit SMARTS definition",
    ),
    Descriptor(
        "hbd_lipinski",
        rdMolDescriptors.CalcNumLipinskiHBD,
        "rdMolDescriptors.CalcNumLipinskiHBD",
        int,
        "NH + OH count (Lipinski 1997)",
    ),
    Descriptor(
        "hba_lipinski",
        rdMolDescriptors.CalcNumLipinskiHBA,
        "rdMolDescriptors.CalcNumLipinskiHBA",
        int,
        "N + O count (Lipinski 1997)",
    ),
    Descriptor(
        "rotatable_bonds",
        rdMolDescriptors.CalcNumRotatableBonds,
        "rdMolDescriptors.CalcNumRotatableBonds",
        int,
        "rotatable bonds (RDKit default, strict)",
    ),
    Descriptor("rings", rdMolDescriptors.CalcNumRings, "rdMolDescriptors.CalcNumRings", int, "rings (SSSR)"),
    Descriptor(
        "aromatic_rings",
        rdMolDescriptors.CalcNumAromaticRings,
        "rdMolDescriptors.CalcNumAromaticRings",
        int,
        "aromatic rings",
    ),
    Descriptor(
        "heavy_atoms",
        rdMolDescriptors.CalcNumHeavyAtoms,
        "rdMolDescriptors.CalcNumHeavyAtoms",
        int,
        "non-hydrogen atoms",
    ),
    Descriptor(
        "atoms",
        rdMolDescriptors.CalcNumAtoms,
        "rdMolDescriptors.CalcNumAtoms",
        int,
        "all atoms including hydrogens (Ghose filter)",
    ),
    Descriptor(
        "fraction_sp3",
        rdMolDescriptors.CalcFractionCSP3,
        "rdMolDescriptors.CalcFractionCSP3",
        float,
        "fraction of carbons that are sp3 (Lovering 2009)",
    ),
    Descriptor("formal_charge", Chem.GetFormalCharge, "Chem.GetFormalCharge", int, "net formal charge"),
    Descriptor(
        "qed",
        QED.qed,
        "QED.qed",
        float,
        "quantitative estimate of drug-likeness, 0..1 (Bickerton 2012), default weights",
    ),
    Descriptor(
        "sa_score",
        sa_score,
        "Contrib sascorer.calculateScore",
        float,
        "synthetic accessibility, 1 easy .. 10 hard (Ertl & Schuffenhauer 2009)",
    ),
)

DESCRIPTOR_NAMES: tuple[str, ...] = tuple(d.name for d in DESCRIPTORS)
_FUNCS = tuple(d.func for d in DESCRIPTORS)


def describe(mol: Chem.Mol) -> dict[str, float | int]:
    """All descriptors of one molecule, as ``{name: value}``."""
    return dict(zip(DESCRIPTOR_NAMES, descriptor_row(mol), strict=True))


def descriptor_row(mol: Chem.Mol) -> list[float | int]:
    """All descriptors of one molecule in :data:`DESCRIPTOR_NAMES` order (the fast inner loop)."""
    return [f(mol) for f in _FUNCS]


def compute_descriptors(mols: Sequence[Chem.Mol]) -> pd.DataFrame:
    """Descriptors of a batch of molecules as a DataFrame, one row per molecule, typed columns.

    Args:
        mols: sanitised RDKit molecules (``None`` is not allowed: filter invalid rows first).

    Raises:
        InputError: a molecule is ``None``.
    """
    sascorer_module()
    n = len(mols)
    columns: dict[str, np.ndarray] = {}
    for d in DESCRIPTORS:
        out = np.empty(n, dtype=np.float64 if d.dtype is float else np.int64)
        func = d.func
        for i, mol in enumerate(mols):
            if mol is None:
                raise InputError("cannot compute descriptors of an invalid molecule", where=f"batch index {i}")
            out[i] = func(mol)
        columns[d.name] = out
    return pd.DataFrame(columns)
