"""GuacaMol goal-directed objectives, written from their published definitions.

Brown et al., "GuacaMol: Benchmarking Models for de Novo Molecular Design", J Chem Inf Model 2019,
59, 1096 (section "Goal-directed benchmarks" and its SI), also used by PMO (Gao et al. 2022) through
TDC. Fingerprints as GuacaMol defines them: ECFP4 = unfolded Morgan radius-2 *count* fingerprint
(``AllChem.GetMorganFingerprint(mol, 2)``), ECFP6 radius 3, FCFP4 radius 2 with feature invariants;
Tanimoto on counts. Modifiers:

* ``gaussian(mu, s)(x) = exp(-0.5 ((x - mu) / s)^2)``
* ``min_gaussian``: 1 for x <= mu, gaussian above; ``max_gaussian``: 1 for x >= mu, gaussian below
* ``clipped(upper)``: x / upper clipped to [0, 1]

Each objective is ``f(list[str]) -> np.ndarray`` in [0, 1] (0 for SMILES that do not parse), the
plain-callable form :class:`~.oracle.Oracle` accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import QED, Crippen, rdFingerprintGenerator, rdMolDescriptors

from theralab.errors import NotFoundError

Objective = Callable[[Sequence[str]], np.ndarray]

CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
CAMPHOR = "CC1(C)C2CCC1(C)C(=O)C2"
MENTHOL = "CC(C)C1CCC(C)CC1O"

_ECFP4 = rdFingerprintGenerator.GetMorganGenerator(radius=2)
_ECFP6 = rdFingerprintGenerator.GetMorganGenerator(radius=3)
_FCFP4 = rdFingerprintGenerator.GetMorganGenerator(
    radius=2, atomInvariantsGenerator=rdFingerprintGenerator.GetMorganFeatureAtomInvGen())
_FP = {"ECFP4": _ECFP4, "ECFP6": _ECFP6, "FCFP4": _FCFP4}


def fingerprint(mol: Chem.Mol, kind: str = "ECFP4") -> DataStructs.ULongSparseIntVect:
    """GuacaMol's count fingerprint of ``mol``."""
    return _FP[kind].GetSparseCountFingerprint(mol)


def similarity(mol: Chem.Mol, ref: Chem.Mol, kind: str = "ECFP4") -> float:
    """Tanimoto on count fingerprints, as GuacaMol's ``TanimotoScoringFunction``."""
    return float(DataStructs.TanimotoSimilarity(fingerprint(mol, kind), fingerprint(ref, kind)))


def gaussian(x: float, mu: float, sigma: float) -> float:
    """GuacaMol ``GaussianModifier``."""
    return float(np.exp(-0.5 * ((x - mu) / sigma) ** 2))


def min_gaussian(x: float, mu: float, sigma: float) -> float:
    """GuacaMol ``MinGaussianModifier``: full score at or below ``mu``."""
    return 1.0 if x <= mu else gaussian(x, mu, sigma)


def max_gaussian(x: float, mu: float, sigma: float) -> float:
    """GuacaMol ``MaxGaussianModifier``: full score at or above ``mu``."""
    return 1.0 if x >= mu else gaussian(x, mu, sigma)


def clipped(x: float, upper: float) -> float:
    """GuacaMol ``ClippedScoreModifier(upper_x)``: linear from 0 to ``upper``, then 1."""
    return float(min(max(x / upper, 0.0), 1.0))


def _per_mol(func: Callable[[Chem.Mol], float]) -> Objective:
    def objective(smiles: Sequence[str]) -> np.ndarray:
        out = np.zeros(len(smiles))
        with rdBase.BlockLogs():
            for i, s in enumerate(smiles):
                mol = Chem.MolFromSmiles(s) if s else None
                if mol is not None:
                    out[i] = func(mol)
        return out

    return objective


def _geomean(values: Sequence[float]) -> float:
    v = np.asarray(values, dtype=float)
    return 0.0 if np.any(v <= 0) else float(np.exp(np.log(v).mean()))


def celecoxib_rediscovery() -> Objective:
    """ECFP4 count Tanimoto to celecoxib (GuacaMol "Celecoxib rediscovery")."""
    ref = Chem.MolFromSmiles(CELECOXIB)
    return _per_mol(lambda m: similarity(m, ref, "ECFP4"))


def qed() -> Objective:
    """QED (RDKit defaults)."""
    return _per_mol(QED.qed)


def logp_target(target: float = 8.0) -> Objective:
    """Crippen logP scored by ``gaussian(mu=target, sigma=1)`` (GuacaMol "logP (target: 8.0)")."""
    return _per_mol(lambda m: gaussian(Crippen.MolLogP(m), target, 1.0))


def osimertinib_mpo() -> Objective:
    """GuacaMol "Osimertinib MPO": geometric mean of four terms.

    FCFP4 similarity clipped at 0.8; ECFP6 similarity min_gaussian(0.85, 0.1) (similar, but not too);
    TPSA max_gaussian(100, 10); logP min_gaussian(1, 1).
    """
    ref = Chem.MolFromSmiles(OSIMERTINIB)

    def score(m: Chem.Mol) -> float:
        return _geomean([
            clipped(similarity(m, ref, "FCFP4"), 0.8),
            min_gaussian(similarity(m, ref, "ECFP6"), 0.85, 0.1),
            max_gaussian(rdMolDescriptors.CalcTPSA(m), 100.0, 10.0),
            min_gaussian(Crippen.MolLogP(m), 1.0, 1.0),
        ])

    return _per_mol(score)


def median_molecules_1() -> Objective:
    """GuacaMol "Median molecules 1": geometric mean of ECFP4 similarity to camphor and to menthol."""
    camphor, menthol = Chem.MolFromSmiles(CAMPHOR), Chem.MolFromSmiles(MENTHOL)
    return _per_mol(lambda m: _geomean([similarity(m, camphor), similarity(m, menthol)]))


OBJECTIVES: dict[str, Callable[[], Objective]] = {
    "celecoxib_rediscovery": celecoxib_rediscovery,
    "qed": qed,
    "logp_target": logp_target,
    "osimertinib_mpo": osimertinib_mpo,
    "median1": median_molecules_1,
}


def get_objective(name: str) -> Objective:
    """A GuacaMol objective by name (see :data:`OBJECTIVES`)."""
    if name not in OBJECTIVES:
        raise NotFoundError(f"unknown objective {name!r}", hint=f"choose one of {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]()


def celecoxib_component(smiles: list[str]) -> np.ndarray:
    """``custom`` component entry point: ``theralab.discovery.generate.objectives:celecoxib_component``."""
    return celecoxib_rediscovery()(smiles)
