"""Survival models (Cox, random survival forest, neural Cox) and their metrics.

All three models give a risk score (higher = earlier event) and a survival curve S(t | x):

* ``cox``: proportional hazards fitted by lifelines (small ridge penalty for stability);
  ``S(t|x) = S0(t) ^ exp(x.beta)`` with the Breslow baseline.
* ``rsf``: scikit-survival's random survival forest (non-linear, no proportional-hazards
  assumption). It cannot be saved without pickle, so it is trained and used in-process only.
* ``neural_cox``: a small PyTorch MLP trained on the negative Cox partial log-likelihood
  (DeepSurv, Katzman et al. 2018), Breslow baseline on its outputs.

Metrics: Harrell's C-index (share of comparable pairs ordered correctly, ties in risk count
half), time-dependent cumulative/dynamic AUC and IPCW Brier score (scikit-survival), and a
calibration table at a horizon (predicted vs Kaplan-Meier observed event probability by decile).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError
from theralab.precision.risk.tabular import Preprocessor

KINDS = ("cox", "rsf", "neural_cox")


def check_survival(time: Sequence[float], event: Sequence[Any], where: str = "survival data") -> tuple[np.ndarray,
                                                                                                     np.ndarray]:
    """Validate follow-up times and event flags: clear errors for negative/missing times or no events."""
    t = pd.to_numeric(pd.Series(list(time)), errors="coerce").to_numpy(dtype=float)
    e_raw = pd.Series(list(event))
    if e_raw.dtype == bool:
        e = e_raw.to_numpy(dtype=float)
    else:
        e = pd.to_numeric(e_raw, errors="coerce").to_numpy(dtype=float)
    if np.isnan(t).any():
        raise InputError(f"{int(np.isnan(t).sum())} follow-up times are missing or not numbers", where=where,
                         hint=f"first bad row: {int(np.isnan(t).argmax()) + 1}")
    if (t < 0).any():
        raise InputError(f"{int((t < 0).sum())} follow-up times are negative", where=where,
                         hint=f"first bad row: {int((t < 0).argmax()) + 1}; times run from study entry")
    if np.isnan(e).any() or not np.isin(e, (0, 1)).all():
        raise InputError("event flags must be 0/1 (or true/false)", where=where)
    if e.sum() == 0:
        raise InputError("no events in the data: a survival model cannot be fitted or judged", where=where,
                         hint="check the event column (1 = event observed, 0 = censored)")
    return t, e.astype(bool)


def concordance_index(time: Sequence[float], event: Sequence[bool], risk: Sequence[float]) -> float:
    """Harrell's C: over pairs where the shorter time is an event, the share with the higher risk
    on the earlier failure (risk ties count half; pairs tied in time are not comparable)."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    r = np.asarray(risk, dtype=float)
    num = den = 0.0
    for i in np.flatnonzero(e):
        later = t > t[i]
        den += later.sum()
        num += (r[i] > r[later]).sum() + 0.5 * (r[i] == r[later]).sum()
    if den == 0:
        raise InputError("no comparable pairs: the C-index is undefined")
    return float(num / den)


def _breslow(time: np.ndarray, event: np.ndarray, lp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Breslow baseline cumulative hazard at each distinct event time."""
    order = np.argsort(time)
    t, e, w = time[order], event[order], np.exp(lp[order] - lp.max())
    times = np.unique(t[e])
    at_risk = np.array([w[t >= s].sum() for s in times])
    deaths = np.array([(e & (t == s)).sum() for s in times])
    return times, np.cumsum(deaths / at_risk) * np.exp(-lp.max())


@dataclass
class SurvivalModel:
    """A fitted survival model: ``risk(frame)`` and ``survival(frame, times)``."""

    kind: str
    features: list[str]
    pre: Preprocessor
    params: dict[str, Any] = field(default_factory=dict)
    estimator: Any = None  # rsf forest or torch module (in memory)
    base_times: np.ndarray | None = None
    base_cumhaz: np.ndarray | None = None

    def _x(self, frame: pd.DataFrame) -> np.ndarray:
        return self.pre.transform(frame)

    def risk(self, frame: pd.DataFrame) -> np.ndarray:
        """Risk score per row (higher = shorter expected survival); the log-hazard for Cox models."""
        x = self._x(frame)
        if self.kind == "cox":
            return x @ np.asarray(self.params["beta"])
        if self.kind == "rsf":
            return self.estimator.predict(x)
        import torch

        with torch.no_grad():
            return self.estimator(torch.as_tensor(x, dtype=torch.float32)).squeeze(-1).numpy().astype(float)

    def survival(self, frame: pd.DataFrame, times: Sequence[float]) -> np.ndarray:
        """S(t | x) for each row (rows x times)."""
        times = np.asarray(times, dtype=float)
        if self.kind == "rsf":
            fns = self.estimator.predict_survival_function(self._x(frame))
            lo, hi = fns[0].domain
            return np.vstack([fn(np.clip(times, lo, hi)) for fn in fns])
        lp = self.risk(frame)
        idx = np.searchsorted(self.base_times, times, side="right") - 1
        h0 = np.where(idx >= 0, self.base_cumhaz[np.maximum(idx, 0)], 0.0)
        return np.exp(-np.outer(np.exp(lp), h0))


def _neural_cox(x: np.ndarray, t: np.ndarray, e: np.ndarray, *, hidden: int = 32, epochs: int = 200,
                lr: float = 3e-3, weight_decay: float = 1e-3, dropout: float = 0.2, seed: int = 0) -> Any:
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.SELU(), torch.nn.Dropout(dropout),
                              torch.nn.Linear(hidden, 1))
    order = np.argsort(-t, kind="stable")  # descending time: the risk set of i is rows 0..i
    xt = torch.as_tensor(x[order], dtype=torch.float32)
    et = torch.as_tensor(e[order], dtype=torch.float32)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        net.train()
        opt.zero_grad()
        lp = net(xt).squeeze(-1)
        loss = -((lp - torch.logcumsumexp(lp, dim=0)) * et).sum() / et.sum()  # Cox partial likelihood
        loss.backward()
        opt.step()
    net.eval()
    return net


def fit_survival(frame: pd.DataFrame, duration: str, event: str, *, kind: str = "cox",
                 features: Sequence[str] | None = None, seed: int = 0, **options: Any) -> SurvivalModel:
    """Fit a survival model on a table with a follow-up time and an event flag.

    Args:
        frame: one row per patient.
        duration: follow-up time column (>= 0).
        event: event column (1 = event, 0 = censored).
        kind: ``cox``, ``rsf`` or ``neural_cox``.
        features: columns to use (default: all others).
        seed: random seed (rsf, neural_cox).
        options: ``penalizer`` (cox, default 0.01); ``n_estimators``, ``min_samples_leaf``, ``low_memory`` (rsf);
            ``hidden``, ``epochs``, ``lr``, ``weight_decay``, ``dropout`` (neural_cox).

    Raises:
        InputError: unknown kind, negative times, no events, missing columns.
    """
    if kind not in KINDS:
        raise InputError(f"unknown survival model {kind!r}", hint=f"one of {', '.join(KINDS)}")
    for col in (duration, event):
        if col not in frame.columns:
            raise InputError(f"column {col!r} is not in the table")
    t, e = check_survival(frame[duration], frame[event], where=f"columns {duration}/{event}")
    feats = list(features) if features else [c for c in frame.columns if c not in (duration, event)]
    pre = Preprocessor.fit(frame, feats)
    x = pre.transform(frame)
    model = SurvivalModel(kind=kind, features=feats, pre=pre)
    if kind == "cox":
        from lifelines import CoxPHFitter

        data = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
        data["_t"], data["_e"] = np.maximum(t, 1e-9), e.astype(int)
        cph = CoxPHFitter(penalizer=options.get("penalizer", 0.01)).fit(data, "_t", "_e")
        model.params = {"beta": cph.params_.to_numpy().tolist(), "names": pre.feature_names}
    elif kind == "rsf":
        from sksurv.ensemble import RandomSurvivalForest
        from sksurv.util import Surv

        model.estimator = RandomSurvivalForest(
            n_estimators=options.get("n_estimators", 200), min_samples_leaf=options.get("min_samples_leaf", 10),
            max_features=options.get("max_features", "sqrt"), n_jobs=1, random_state=seed,
            low_memory=options.get("low_memory", False),  # True: risk only, no survival curves (large data)
        ).fit(x, Surv.from_arrays(e, t))
        return model
    else:
        opts = {k: options[k] for k in ("hidden", "epochs", "lr", "weight_decay", "dropout") if k in options}
        model.estimator = _neural_cox(x, t, e, seed=seed, **opts)
    model.base_times, model.base_cumhaz = _breslow(t, e, model.risk(frame))
    return model


def evaluate_survival(model: SurvivalModel, frame: pd.DataFrame, duration: str, event: str, *,
                      train: pd.DataFrame | None = None, horizons: Sequence[float] | None = None) -> dict[str, Any]:
    """C-index, time-dependent AUC and IPCW Brier at horizons, and a calibration table at the middle one.

    The censoring distribution for AUC and Brier is estimated on ``train`` (default: ``frame``);
    horizons default to the 25th/50th/75th percentiles of the event times, within follow-up.
    """
    from sksurv.metrics import brier_score, cumulative_dynamic_auc
    from sksurv.util import Surv

    t, e = check_survival(frame[duration], frame[event])
    ref = train if train is not None else frame
    t_tr, e_tr = check_survival(ref[duration], ref[event])
    risk = model.risk(frame)
    out: dict[str, Any] = {"c_index": concordance_index(t, e, risk), "n": int(len(frame)), "events": int(e.sum())}
    if horizons is None:
        horizons = np.percentile(t[e], [25, 50, 75])
    lo, hi = max(t.min(), t_tr.min()), min(t.max(), t_tr[e_tr].max()) if e_tr.any() else t.max()
    horizons = np.array([h for h in horizons if lo < h < hi and h < t_tr.max()])
    if horizons.size:
        # IPCW needs the censoring survival G(t) > 0 at every test event time: test follow-up is cut
        # just before the last training time, where G can drop to 0 (administrative censoring)
        tau = t_tr.max()
        cut = t >= tau
        t_cut = np.where(cut, np.nextafter(tau, -np.inf), t)
        y_tr, y_te = Surv.from_arrays(e_tr, t_tr), Surv.from_arrays(e & ~cut, t_cut)
        aucs, mean_auc = cumulative_dynamic_auc(y_tr, y_te, risk, horizons)
        surv = model.survival(frame, horizons)
        _, briers = brier_score(y_tr, y_te, surv, horizons)
        out["horizons"] = horizons.tolist()
        out["td_auc"] = [float(a) for a in aucs]
        out["brier"] = [float(b) for b in briers]
        mid = len(horizons) // 2
        out["calibration"] = calibration_table(t, e, 1.0 - surv[:, mid], float(horizons[mid]))
    return out


def calibration_table(time: np.ndarray, event: np.ndarray, predicted: np.ndarray, horizon: float,
                      bins: int = 10) -> list[dict[str, float]]:
    """Predicted vs observed event probability by horizon, per risk decile (observed = 1 - Kaplan-Meier)."""
    order = np.argsort(predicted)
    rows = []
    for chunk in np.array_split(order, min(bins, max(1, len(order) // 10))):
        tt, ee = time[chunk], event[chunk]
        s = 1.0
        for u in np.unique(tt[ee & (tt <= horizon)]):
            s *= 1.0 - (ee & (tt == u)).sum() / (tt >= u).sum()
        rows.append({"predicted": float(predicted[chunk].mean()), "observed": float(1.0 - s), "n": int(chunk.size)})
    return rows
