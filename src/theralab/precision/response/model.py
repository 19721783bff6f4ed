"""ln(IC50) prediction: the additive drug + cell baseline and a neighbour-feature gradient-boosting model.

Additive baseline: ``y = mu + a_drug + b_cell`` fitted on the training pairs; an unseen drug
(cell) gets ``a = 0`` (``b = 0``), i.e. the cell's (drug's) average.

Our model (``NeighbourGBM``) predicts the residual from that baseline with LightGBM over features
that transfer to unseen drugs and cells, each a similarity-weighted average of training residuals
``r = y - mu - a - b``:

* drug neighbours by structure (Tanimoto on Morgan fingerprints, top 10) on the same cell line;
* drug neighbours by response profile (correlation of residual rows; seen drugs only);
* drugs of the same target pathway on the same cell line;
* cell neighbours by omics (correlation of methylation profiles, top 60) for the same drug;
* cell neighbours by response profile (seen cells only); cells of the same tissue for the same drug.

Training features are computed out-of-fold with the split's own kind (cells or drugs held out
inside the training set), so the model learns in the same regime it is tested in.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theralab.precision.response.data import ResponseData


def _nanmean(x: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``np.nanmean`` without the warning for all-NaN slices (unseen drugs/cells are expected: NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, **kwargs)


def additive_fit(y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """``mu, a (drugs), b (cells)`` by alternating means over observed entries (5 sweeps); NaN where unseen."""
    mu = float(_nanmean(y))
    a = np.zeros(y.shape[0])
    b = np.zeros(y.shape[1])
    obs = np.isfinite(y)
    with np.errstate(invalid="ignore"):
        for _ in range(5):
            a = _nanmean(np.where(obs, y - mu - b[None, :], np.nan), axis=1) if obs.any() else a
            a = np.where(obs.any(axis=1), a, np.nan)
            b = _nanmean(np.where(obs, y - mu - np.nan_to_num(a)[:, None], np.nan), axis=0)
            b = np.where(obs.any(axis=0), b, np.nan)
    return mu, a, b


def additive_predict(y_train: np.ndarray) -> np.ndarray:
    """The additive baseline's prediction for every (drug, cell) from the training matrix."""
    mu, a, b = additive_fit(y_train)
    return mu + np.nan_to_num(a)[:, None] + np.nan_to_num(b)[None, :]


def _topk(sim: np.ndarray, k: int) -> np.ndarray:
    s = sim.copy()
    np.fill_diagonal(s, 0.0)
    s = np.clip(np.nan_to_num(s), 0.0, None)
    if k < s.shape[1]:
        cut = -np.partition(-s, k - 1, axis=1)[:, k - 1:k]
        s = np.where(s >= cut, s, 0.0)
    return s


def _neigh(weights_rows: np.ndarray, r: np.ndarray, axis: int) -> np.ndarray:
    """Weighted mean of residuals over neighbours: rows (drugs) when axis=0, columns (cells) when axis=1."""
    obs = np.isfinite(r).astype(float)
    r0 = np.nan_to_num(r)
    with np.errstate(invalid="ignore", divide="ignore"):
        if axis == 0:
            return (weights_rows @ r0) / (weights_rows @ obs)
        return (r0 @ weights_rows.T) / (obs @ weights_rows.T)


def _corr_rows(m: np.ndarray) -> np.ndarray:
    """Pearson correlation between rows of a matrix with NaNs (pairwise over shared entries, approx.)."""
    x = m - _nanmean(m, axis=1, keepdims=True)
    x = np.nan_to_num(x)
    norm = np.sqrt((x**2).sum(axis=1, keepdims=True))
    norm[norm == 0] = 1
    x = x / norm
    return x @ x.T


@dataclass
class Similarities:
    """Fixed side-information similarities (computed once per data set)."""

    drug_struct: np.ndarray
    drug_pathway: np.ndarray
    cell_omics: np.ndarray
    cell_tissue: np.ndarray


def side_similarities(data: ResponseData) -> Similarities:
    """Tanimoto (Morgan r2, 2048 bits) between drugs, pathway and tissue identity, omics correlation."""
    from rdkit import Chem

    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec

    fp = Fingerprinter(fingerprint_spec("morgan2"))
    bits = np.stack([fp.bits(Chem.MolFromSmiles(s)) if Chem.MolFromSmiles(s) is not None
                     else np.zeros(fp.spec.bits, dtype=np.uint8) for s in data.smiles]).astype(float)
    inter = bits @ bits.T
    counts = bits.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tani = np.nan_to_num(inter / (counts[:, None] + counts[None, :] - inter))
    pathway = np.array(data.pathway)
    tissue = np.array(data.tissue)
    omics = (data.omics - data.omics.mean(axis=0)) / (data.omics.std(axis=0) + 1e-9)
    return Similarities(drug_struct=_topk(tani, 10), drug_pathway=_topk((pathway[:, None] == pathway[None, :]) * 1.0,
                                                                         10_000),
                        cell_omics=_topk(_corr_rows(omics), 60),
                        cell_tissue=_topk((tissue[:, None] == tissue[None, :]) * 1.0, 10_000))


def _effect_nb(weights_rows: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """Similarity-weighted mean of neighbours' main effects (drug potency or cell sensitivity)."""
    seen = np.isfinite(effect).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights_rows @ np.nan_to_num(effect)) / (weights_rows @ seen)


def pair_features(y_obs: np.ndarray, sims: Similarities) -> dict[str, np.ndarray]:
    """Feature matrices (drugs x cells) computed from the observed training matrix ``y_obs``."""
    mu, a, b = additive_fit(y_obs)
    r = y_obs - mu - np.nan_to_num(a)[:, None] - np.nan_to_num(b)[None, :]
    shape = y_obs.shape
    drug_prof = _topk(_corr_rows(r), 10)
    cell_prof = _topk(_corr_rows(r.T), 15)
    return {
        "baseline": mu + np.nan_to_num(a)[:, None] + np.nan_to_num(b)[None, :],
        "drug_effect": np.broadcast_to(a[:, None], shape),
        "cell_effect": np.broadcast_to(b[None, :], shape),
        "drug_struct_nb": _neigh(sims.drug_struct, r, 0),
        "drug_pathway_nb": _neigh(sims.drug_pathway, r, 0),
        "drug_profile_nb": _neigh(drug_prof, r, 0),
        "cell_omics_nb": _neigh(sims.cell_omics, r, 1),
        "cell_tissue_nb": _neigh(sims.cell_tissue, r, 1),
        "cell_profile_nb": _neigh(cell_prof, r, 1),
        "drug_struct_effect": np.broadcast_to(_effect_nb(sims.drug_struct, a)[:, None], shape),
        "drug_pathway_effect": np.broadcast_to(_effect_nb(sims.drug_pathway, a)[:, None], shape),
        "cell_omics_effect": np.broadcast_to(_effect_nb(sims.cell_omics, b)[None, :], shape),
        "cell_tissue_effect": np.broadcast_to(_effect_nb(sims.cell_tissue, b)[None, :], shape),
    }


def _stack(feats: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
    return np.column_stack([f[mask] for f in feats.values()])


@dataclass
class NeighbourGBM:
    """Residual LightGBM over neighbour features (see the module docstring)."""

    split: str = "random"
    inner_folds: int = 5
    seed: int = 0
    params: dict[str, Any] = field(default_factory=lambda: {
        "objective": "regression", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 50,
        "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1,
        "num_threads": 1})
    rounds: int = 400
    booster: Any = None
    names: list[str] = field(default_factory=list)

    def fit(self, y_train: np.ndarray, sims: Similarities) -> NeighbourGBM:
        """Train on the observed entries of ``y_train`` with out-of-fold features of the split's kind."""
        import lightgbm as lgb

        rng = np.random.default_rng(self.seed)
        obs = np.isfinite(y_train)
        xs, ys = [], []
        if self.split == "cell":
            fold_of = rng.integers(0, self.inner_folds, y_train.shape[1])[None, :] * np.ones(y_train.shape, int)
        elif self.split == "drug":
            fold_of = rng.integers(0, self.inner_folds, y_train.shape[0])[:, None] * np.ones(y_train.shape, int)
        else:
            fold_of = rng.integers(0, self.inner_folds, y_train.shape)
        for k in range(self.inner_folds):
            held = obs & (fold_of == k)
            feats = pair_features(np.where(held, np.nan, y_train), sims)
            self.names = list(feats)
            xs.append(_stack(feats, held))
            ys.append(y_train[held] - feats["baseline"][held])
        x, y = np.vstack(xs), np.concatenate(ys)
        self.booster = lgb.train({**self.params, "seed": self.seed}, lgb.Dataset(x, y, feature_name=self.names),
                                 self.rounds)
        return self

    def predict(self, y_train: np.ndarray, sims: Similarities, mask: np.ndarray) -> np.ndarray:
        """Predictions for the entries of ``mask`` (features from all of ``y_train``)."""
        feats = pair_features(y_train, sims)
        return feats["baseline"][mask] + self.booster.predict(_stack(feats, mask))
