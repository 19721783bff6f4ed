"""Features and splits for training ADMET models on a user's own data.

Features follow MapLight (Notwell & Wood, 2023), whose CatBoost/LightGBM models on this exact
concatenation led 8 of 22 TDC ADMET leaderboards: ECFP4 count fingerprint (Morgan radius 2,
1,024 bits), Avalon count fingerprint (1,024 bits), the ErG extended reduced-graph pharmacophore
fingerprint (315 values) and every RDKit 2D descriptor. Counts rather than bits keep "three
carboxylic acids" apart from "one", which matters for properties such as solubility and PPB.

Splits: ``random``; ``scaffold`` (Bemis-Murcko, large scaffold groups kept in training as in
Chemprop's balanced scaffold split, so test molecules have scaffolds never seen in training,
the honest estimate for new chemical series); ``cv`` (k random folds); or ``column:NAME`` for a
split given in the data (values ``train``/``test``, e.g. PharmaBench's labels).
A calibration part (for conformal intervals and probability calibration) is always carved out of
the training part with the same method, so calibration sees the same kind of shift as test.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem, rdBase

from theralab.errors import InputError

ECFP_BITS = 1024
AVALON_BITS = 1024
MIN_ROWS = 30


def descriptor_names() -> list[str]:
    """RDKit 2D descriptor names in RDKit's order."""
    from rdkit.Chem import Descriptors

    return [name for name, _ in Descriptors._descList]


def feature_names() -> list[str]:
    """Column names of :func:`maplight_features` (ECFP bits first, so bit ``i`` is column ``i``)."""
    return (
        [f"ecfp4_{i}" for i in range(ECFP_BITS)]
        + [f"avalon_{i}" for i in range(AVALON_BITS)]
        + [f"erg_{i}" for i in range(315)]
        + [f"rdkit_{n}" for n in descriptor_names()]
    )


def maplight_features(mols: Sequence[Chem.Mol]) -> np.ndarray:
    """The MapLight feature matrix, ``float32``, non-finite descriptor values set to NaN.

    LightGBM handles NaN natively (a learned default direction), so a descriptor RDKit cannot
    compute for one molecule does not poison the row.
    """
    from rdkit.Avalon import pyAvalonTools
    from rdkit.Chem import Descriptors, rdReducedGraphs

    from theralab.chem.fingerprints import morgan_generator

    gen = morgan_generator(2, ECFP_BITS)
    funcs = [f for _, f in Descriptors._descList]
    rows = []
    with rdBase.BlockLogs():
        for mol in mols:
            ecfp = gen.GetCountFingerprintAsNumPy(mol).astype(np.float32)
            avalon = np.zeros(AVALON_BITS, dtype=np.float32)
            for idx, count in pyAvalonTools.GetAvalonCountFP(mol, nBits=AVALON_BITS).GetNonzeroElements().items():
                avalon[idx] = count
            erg = np.asarray(rdReducedGraphs.GetErGFingerprint(mol), dtype=np.float32)
            desc = np.empty(len(funcs), dtype=np.float64)
            for j, fn in enumerate(funcs):
                try:
                    desc[j] = fn(mol)
                except Exception:  # noqa: BLE001 - RDKit descriptors raise assorted errors on odd molecules
                    desc[j] = np.nan
            desc[~np.isfinite(desc) | (np.abs(desc) > 1e30)] = np.nan
            rows.append(np.concatenate([ecfp, avalon, erg, desc.astype(np.float32)]))
    if not rows:
        return np.zeros((0, len(feature_names())), dtype=np.float32)
    return np.vstack(rows)


@dataclass(frozen=True)
class Split:
    """Row indices of the train, calibration and test parts."""

    train: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    method: str
    seed: int


def murcko_scaffold(mol: Chem.Mol) -> str:
    """Bemis-Murcko scaffold SMILES (empty for acyclic molecules)."""
    from rdkit.Chem.Scaffolds import MurckoScaffold

    try:
        return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)
    except Exception:  # noqa: BLE001 - fall back to the molecule itself
        return Chem.MolToSmiles(mol)


def _scaffold_parts(
    mols: Sequence[Chem.Mol], idx: np.ndarray, fractions: Sequence[float], seed: int
) -> list[np.ndarray]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i in idx:
        groups[murcko_scaffold(mols[i])].append(int(i))
    sets = list(groups.values())
    rng = np.random.default_rng(seed)
    n = len(idx)
    small_cut = fractions[-1] * n / 2
    big = [s for s in sets if len(s) > small_cut]
    small = [s for s in sets if len(s) <= small_cut]
    rng.shuffle(big)
    rng.shuffle(small)
    ordered = big + small
    parts: list[list[int]] = [[] for _ in fractions]
    sizes = [f * n for f in fractions]
    for s in ordered:  # Chemprop's rule: the first part the group still fits in, else the last part
        k = next((j for j in range(len(parts) - 1) if len(parts[j]) + len(s) <= sizes[j]), len(parts) - 1)
        parts[k].extend(s)
    return [np.array(sorted(p), dtype=int) for p in parts]


def make_split(
    mols: Sequence[Chem.Mol],
    method: str = "scaffold",
    seed: int = 0,
    *,
    test_fraction: float = 0.2,
    calibration_fraction: float = 0.1,
    labels: Sequence[str] | None = None,
) -> Split:
    """Split rows into train / calibration / test.

    Args:
        mols: the (valid) molecules, one per row.
        method: ``random``, ``scaffold`` or ``column`` (then ``labels`` gives train/test per row).
        seed: shuffling seed (recorded on the model card).
        test_fraction: share of rows for test (random and scaffold).
        calibration_fraction: share of all rows carved out of training for calibration.
        labels: per-row ``train``/``test`` when ``method == 'column'``.

    Raises:
        InputError: too few rows, an unknown method, or a split that leaves a part empty.
    """
    n = len(mols)
    if n < MIN_ROWS:
        raise InputError(
            f"{n} usable rows are too few to split into train, calibration and test",
            where="data",
            hint=f"provide at least {MIN_ROWS} molecules with target values",
        )
    idx = np.arange(n)
    rng = np.random.default_rng(seed)
    if method == "random":
        perm = rng.permutation(n)
        n_test, n_cal = round(test_fraction * n), round(calibration_fraction * n)
        test, cal, train = perm[:n_test], perm[n_test : n_test + n_cal], perm[n_test + n_cal :]
    elif method == "scaffold":
        train, cal, test = _scaffold_parts(
            mols, idx, [1 - test_fraction - calibration_fraction, calibration_fraction, test_fraction], seed
        )
    elif method == "column":
        if labels is None:
            raise InputError("a column split needs the split labels", where="split")
        lab = np.array([str(v).strip().lower() for v in labels])
        bad = sorted(set(lab) - {"train", "test"})
        if bad:
            raise InputError(f"split column holds {bad[:3]}; expected 'train' or 'test'", where="split column")
        test = idx[lab == "test"]
        pool = idx[lab == "train"]
        sub_mols = [mols[i] for i in pool]
        tr, ca = _scaffold_parts(
            sub_mols,
            np.arange(len(pool)),
            [1 - calibration_fraction / (1 - test_fraction), calibration_fraction / (1 - test_fraction)],
            seed,
        )
        train, cal = pool[tr], pool[ca]
    else:
        raise InputError(f"unknown split {method!r}", where="split", hint="random, scaffold, cv or column:NAME")
    for name, part in (("train", train), ("calibration", cal), ("test", test)):
        if len(part) == 0:
            raise InputError(
                f"the {method} split left the {name} part empty", where="split", hint="use more rows or a random split"
            )
    return Split(np.sort(train), np.sort(cal), np.sort(test), method, seed)


def cv_splits(
    mols: Sequence[Chem.Mol], folds: int = 5, seed: int = 0, calibration_fraction: float = 0.1
) -> list[Split]:
    """K random folds; each fold is test once, calibration is carved at random from the rest."""
    n = len(mols)
    if n < max(MIN_ROWS, 2 * folds):
        raise InputError(f"{n} rows are too few for {folds}-fold cross-validation", where="data")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    out = []
    for k, test in enumerate(np.array_split(perm, folds)):
        rest = np.setdiff1d(perm, test)
        rest = rng.permutation(rest)
        n_cal = max(1, round(calibration_fraction * n))
        out.append(Split(np.sort(rest[n_cal:]), np.sort(rest[:n_cal]), np.sort(test), f"cv{k}", seed))
    return out
