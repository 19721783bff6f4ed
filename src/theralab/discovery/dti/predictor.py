"""A trained DTI model: fit, save with its card, load, and predict pairs or rank a library.

A model directory holds ``model.json`` (the registry card: kind, training config, metrics,
retrain command, the target it is bound to if any), ``weights.pt`` (deep members' state dicts,
read with ``weights_only=True``) or ``member<i>.txt`` (LightGBM text), and ``domain.json`` (the
training drugs and targets for the applicability domain). Loading goes through the card's
``loader`` like every theralab model.

Screening: the pipeline calls ``predictor.predict(smiles)``. A DTI model needs a target too, so a
model *bound* to one sequence (``DTIModel.bind`` / ``theralab dti bind``) keeps that sequence in
its card and answers ``predict(smiles)`` with one row per molecule: ``affinity``,
``affinity_std``, ``drug_similarity`` and ``in_domain``. No change to the screening code.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.discovery.dti.data import DTIData, clean_sequence, read_fasta_or_sequence, sequence_problem
from theralab.discovery.dti.domain import Domain
from theralab.discovery.dti.train import Progress, TrainConfig, predict_pairs, train_member
from theralab.errors import InputError, ModelError
from theralab.models.registry import ModelCard, fingerprint_table, load_card, save_card

LOADER = "theralab.discovery.dti.predictor:load_dti"
OUTPUTS = ["affinity", "affinity_std", "drug_similarity", "nearest_drug", "target_similarity", "nearest_target",
           "in_domain"]


class DTIModel:
    """An ensemble of one model kind, its applicability domain, and optionally a bound target."""

    def __init__(self, config: TrainConfig, members: list[Any], domain: Domain, unit: str = "affinity",
                 card: ModelCard | None = None) -> None:
        self.config = config
        self.members = members
        self.domain = domain
        self.unit = unit
        self.card = card or ModelCard(name=f"dti-{config.model}", task="dti-regression")
        self._net: Any = None

    # ------------------------------------------------------------------ training
    @classmethod
    def fit(cls, data: DTIData, train_idx: np.ndarray, valid_idx: np.ndarray, config: TrainConfig, *,
            checkpoint_dir: Path | None = None, resume: bool = True,
            progress: Progress | None = None) -> tuple[DTIModel, list[dict[str, Any]]]:
        """Train ``config.members`` members; returns the model and one training log per member."""
        logs: list[dict[str, Any]] = []
        members: list[Any] = []
        if config.model == "baseline":
            from theralab.discovery.dti.models.baseline import BaselineFeaturizer, fit_baseline

            feat = BaselineFeaturizer(**config.network)
            dt, tt = feat.drugs(data.drugs), feat.targets(data.targets)
            x = feat.pairs(dt, tt, data.drug_idx[train_idx], data.target_idx[train_idx])
            xv = feat.pairs(dt, tt, data.drug_idx[valid_idx], data.target_idx[valid_idx]) if len(valid_idx) else None
            for m in range(config.members):
                booster = fit_baseline(x, data.y[train_idx], xv, data.y[valid_idx] if xv is not None else None,
                                       config.network, seed=config.seed + m)
                members.append(booster)
                logs.append({"member": m, "trees": booster.current_iteration()})
                if progress:
                    progress((m + 1) / config.members, f"baseline member {m + 1}: {booster.current_iteration()} trees")
        else:
            from theralab.discovery.dti.models import build

            _, feat = build(config.model, config.network)
            tables = (feat.drugs(data.drugs), feat.targets(data.targets))
            for m in range(config.members):
                ckpt = Path(checkpoint_dir) / f"member{m}.ckpt.pt" if checkpoint_dir else None

                def member_progress(frac: float, msg: str, m: int = m) -> None:
                    if progress:
                        progress((m + frac) / config.members, msg)

                log = train_member(data, train_idx, valid_idx, config, member=m, checkpoint=ckpt, resume=resume,
                                   progress=member_progress, tables=tables)
                members.append(log.pop("state"))
                logs.append({"member": m, **log})
        used_d = np.unique(data.drug_idx[train_idx])
        used_t = np.unique(data.target_idx[train_idx])
        ids_d = data.drug_ids or [str(i) for i in range(len(data.drugs))]
        ids_t = data.target_ids or [str(i) for i in range(len(data.targets))]
        domain = Domain([data.drugs[i] for i in used_d], [ids_d[i] for i in used_d],
                        [data.targets[i] for i in used_t], [ids_t[i] for i in used_t])
        frame = pd.DataFrame({"d": data.drug_idx[train_idx], "t": data.target_idx[train_idx], "y": data.y[train_idx]})
        card = ModelCard(name=f"dti-{config.model}-{data.name}", task="dti-regression",
                         description=f"{config.model} drug-target affinity model trained on {data.name} ({data.unit})",
                         training_data={**fingerprint_table(frame), "source": data.name},
                         seeds=[config.seed + m for m in range(config.members)])
        return cls(config, members, domain, data.unit, card), logs

    # ------------------------------------------------------------------ prediction
    def _networks(self) -> tuple[list[Any], Any]:
        if self._net is None:
            if self.config.model == "baseline":
                from theralab.discovery.dti.models.baseline import BaselineFeaturizer

                self._net = (self.members, BaselineFeaturizer(**self.config.network))
            else:
                from theralab.discovery.dti.models import build

                nets = []
                for state in self.members:
                    net, feat = build(self.config.model, self.config.network)
                    net.load_state_dict(state)
                    net.eval()
                    nets.append(net)
                self._net = (nets, feat)
        return self._net

    def member_predictions(self, smiles: list[str], sequences: list[str], d: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Each member's predictions, shape ``(members, pairs)``, for pairs given as indices into
        ``smiles`` and ``sequences`` (already validated), so each is featurised once."""
        nets, feat = self._networks()
        dt, tt = feat.drugs(smiles), feat.targets(sequences)
        if self.config.model == "baseline":
            x = feat.pairs(dt, tt, d, t)
            return np.stack([b.predict(x) for b in nets])
        return np.stack([predict_pairs(n, feat, dt, tt, d, t) for n in nets])

    def predict_pairs(self, smiles: Sequence[str], sequences: Sequence[str]) -> pd.DataFrame:
        """One row per (SMILES, sequence) pair, in input order; bad rows keep their place with an ``error``."""
        from theralab.chem.io import parse_smiles

        if len(smiles) != len(sequences):
            raise InputError(f"{len(smiles)} SMILES but {len(sequences)} sequences", where="pairs")
        n = len(smiles)
        errors = [""] * n
        canon: list[str] = []
        seqs: list[str] = []
        for i, (s, q) in enumerate(zip(smiles, sequences, strict=True)):
            mol, why = parse_smiles(str(s))
            why_q = sequence_problem(str(q))
            errors[i] = "; ".join(x for x in (f"SMILES: {why}" if mol is None else "", why_q or "") if x)
            canon.append(str(s).strip())
            seqs.append("".join(str(q).split()).upper())
        ok = np.array([not e for e in errors], dtype=bool)
        out = pd.DataFrame({"smiles": [str(s) for s in smiles]})
        for col in OUTPUTS:
            out[col] = np.nan if col not in ("nearest_drug", "nearest_target", "in_domain") else ""
        out["in_domain"] = False
        out["error"] = errors
        if not ok.any():
            return out
        rows = np.flatnonzero(ok)
        u_smiles, d = np.unique([canon[i] for i in rows], return_inverse=True)
        u_seqs, t = np.unique([seqs[i] for i in rows], return_inverse=True)
        preds = self.member_predictions(list(u_smiles), list(u_seqs), d.astype(np.int64), t.astype(np.int64))
        from theralab.models.uncertainty import ensemble_spread

        out.loc[rows, "affinity"] = preds.mean(axis=0)
        out.loc[rows, "affinity_std"] = ensemble_spread(preds)
        dsim, dname = self.domain.drug_similarity(list(u_smiles))
        tsim = [self.domain.target_similarity(s) for s in u_seqs]
        out.loc[rows, "drug_similarity"] = dsim[d]
        out.loc[rows, "nearest_drug"] = [dname[k] for k in d]
        out.loc[rows, "target_similarity"] = [tsim[k][0] for k in t]
        out.loc[rows, "nearest_target"] = [tsim[k][1] for k in t]
        out.loc[rows, "in_domain"] = ((out.loc[rows, "drug_similarity"] >= self.domain.drug_threshold)
                                      & (out.loc[rows, "target_similarity"] >= self.domain.target_threshold))
        for col in ("affinity", "affinity_std", "drug_similarity", "target_similarity"):
            out[col] = out[col].astype(float)
        out["in_domain"] = out["in_domain"].astype(bool)
        return out

    def rank(self, sequence: str, smiles: Sequence[str], ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Score a library against one target and sort best binder first (bad rows last)."""
        seq = clean_sequence(sequence, "target sequence")
        out = self.predict_pairs(list(smiles), [seq] * len(smiles))
        out.insert(0, "id", list(ids) if ids is not None else [str(i + 1) for i in range(len(smiles))])
        out = out.sort_values("affinity", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        return out

    @property
    def target(self) -> dict[str, str] | None:
        """The bound target ``{"name", "sequence"}`` or None."""
        extra = self.card.model_extra or {}
        return extra.get("target")

    def predict(self, smiles: Sequence[str]) -> pd.DataFrame:
        """The screening interface: score molecules against the bound target."""
        if not self.target:
            raise ModelError(f"model {self.card.name} scores pairs and has no bound target",
                             hint="bind one first: theralab dti bind MODEL --target-sequence FASTA -o DIR")
        out = self.predict_pairs(list(smiles), [self.target["sequence"]] * len(smiles))
        return out[["affinity", "affinity_std", "drug_similarity", "target_similarity"]].assign(
            in_domain=out["in_domain"].astype(float))

    def bind(self, sequence: str, target_name: str = "target") -> DTIModel:
        """A copy answering ``predict(smiles)`` against this one target (for screening)."""
        seq = clean_sequence(sequence, "target sequence")
        card = self.card.model_copy(deep=True)
        extra = dict(card.model_extra or {})
        extra["target"] = {"name": target_name, "sequence": seq}
        card = ModelCard(**{**card.model_dump(), **extra, "name": f"{card.name}-{target_name}"})
        return DTIModel(self.config, self.members, self.domain, self.unit, card)

    # ------------------------------------------------------------------ storage
    def save(self, model_dir: str | Path, *, name: str | None = None, metrics: dict[str, Any] | None = None,
             retrain: str = "") -> ModelCard:
        """Write weights, domain and card (with checksums) to ``model_dir``."""
        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        files = ["domain.json"]
        if self.config.model == "baseline":
            from theralab.discovery.dti.models.baseline import save_booster

            for m, booster in enumerate(self.members):
                save_booster(booster, model_dir / f"member{m}.txt")
                files.append(f"member{m}.txt")
        else:
            import torch

            flat = {f"m{m}.{k}": v.detach().cpu() for m, state in enumerate(self.members) for k, v in state.items()}
            torch.save(flat, model_dir / "weights.pt")
            files.append("weights.pt")
        (model_dir / "domain.json").write_text(json.dumps(self.domain.to_dict()))
        data = self.card.model_dump()
        data.update(name=name or self.card.name, loader=LOADER, kind=self.config.model,
                    train_config=self.config.model_dump(), unit=self.unit, members=len(self.members),
                    outputs=OUTPUTS, weights={f: "" for f in files})
        if metrics is not None:
            data["metrics"] = metrics
        if retrain:
            data["retrain"] = retrain
        self.card = save_card(model_dir, ModelCard(**data))
        return self.card


def load_dti(model_dir: str | Path) -> DTIModel:
    """The card's loader: verify checksums, then read members and domain (no pickle)."""
    model_dir = Path(model_dir)
    card = load_card(model_dir)
    extra = card.model_extra or {}
    if extra.get("loader") != LOADER:
        raise ModelError(f"{model_dir} is not a DTI model", where=str(model_dir))
    config = TrainConfig(**extra["train_config"])
    domain = Domain(**json.loads((model_dir / "domain.json").read_text()))
    n = int(extra.get("members", 1))
    if config.model == "baseline":
        from theralab.discovery.dti.models.baseline import load_booster

        members: list[Any] = [load_booster(model_dir / f"member{m}.txt") for m in range(n)]
    else:
        import torch

        flat = torch.load(model_dir / "weights.pt", map_location="cpu", weights_only=True)
        members = [{k.split(".", 1)[1]: v for k, v in flat.items() if k.startswith(f"m{m}.")} for m in range(n)]
    return DTIModel(config, members, domain, str(extra.get("unit", "affinity")), card)


def bind_model(model: str | Path, sequence: str, out_dir: str | Path, *, target_name: str | None = None,
               name: str | None = None) -> ModelCard:
    """Copy a model directory and fix its target, so the screening pipeline can use it as a score.

    Args:
        model: registered name or directory of a trained DTI model.
        sequence: FASTA text (first record) or a raw one-letter sequence.
        out_dir: the new model directory (weights copied, card names the target).
        target_name: defaults to the FASTA identifier.
        name: registry name (default ``<model>-<target>``).
    """
    from theralab.models.base import resolve_model_dir

    fasta_name, seq = read_fasta_or_sequence(sequence)
    src = resolve_model_dir(str(model))
    base = load_dti(src)
    bound = base.bind(seq, target_name or fasta_name)
    out_dir = Path(out_dir)
    if out_dir.resolve() == Path(src).resolve():
        raise InputError("the bound model needs its own directory", where=str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in base.card.weights:
        shutil.copy2(Path(src) / f, out_dir / f)
    bound.card.weights = dict(base.card.weights)
    data = bound.card.model_dump()
    data["name"] = name or bound.card.name
    return save_card(out_dir, ModelCard(**data))
