"""The virtual-screening pipeline as a resumable job (kind ``screen.run``).

library -> standardise -> rule and property filters -> structural alerts -> similarity to known
actives (max or mean fusion) -> scores from any registered model -> desirability per objective
(weighted geometric mean, Derringer-Suich) -> InChIKey de-duplication -> diversity selection
(Butina clusters or MaxMin) -> top N with a report saying why each molecule passed.

Chunks are Parquet files; each worker loads each model once (``cached_predictor``). Every step is
deterministic (ties broken by input row), so a run gives identical hits on local processes and on
a Dask cluster, and an interrupted run resumes without redoing finished chunks.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from theralab.chem.jobs import split_molecule_file
from theralab.discovery.screening.config import Objective, RunConfig, parse_config
from theralab.errors import InputError
from theralab.runtime.jobs import write_parquet_atomic


def desirability(values: np.ndarray, objective: Objective) -> np.ndarray:
    """Derringer-Suich desirability in [0, 1] (linear ramps; NaN counts as 0)."""
    x = np.asarray(values, dtype=float)
    lo, hi = objective.low, objective.high
    if objective.goal == "maximize":
        d = (x - lo) / (hi - lo)
    elif objective.goal == "minimize":
        d = (hi - x) / (hi - lo)
    else:
        t = float(objective.target)  # type: ignore[arg-type]
        d = np.where(x <= t, (x - lo) / (t - lo) if t > lo else (x >= lo).astype(float),
                     (hi - x) / (hi - t) if hi > t else (x <= hi).astype(float))
    d = np.clip(d, 0.0, 1.0)
    return np.where(np.isnan(x), 0.0, d)


def combined_score(columns: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Weighted geometric mean of desirabilities (any zero makes the whole zero, as intended)."""
    total = sum(weights)
    logs = sum(w * np.log(np.clip(d, 1e-300, 1.0)) for d, w in zip(columns, weights, strict=True))
    score = np.exp(logs / total)
    zero = np.zeros(len(columns[0]), dtype=bool)
    for d in columns:
        zero |= d <= 0
    return np.where(zero, 0.0, score)


@lru_cache(maxsize=8)
def _active_fps(actives: tuple[str, ...], radius: int, bits: int) -> tuple[list[Any], list[str]]:
    from theralab.chem.fingerprints import morgan_generator
    from theralab.chem.io import MoleculeReader, parse_smiles

    gen = morgan_generator(radius, bits)

    fps, names = [], []
    for entry in actives:
        path = Path(entry)
        if path.is_file():  # a molecule file in any format the one reader takes
            for rec in MoleculeReader(path):
                if rec.mol is None:
                    raise InputError(f"active {rec.smiles!r} is not a molecule: {rec.error}",
                                     where=f"{entry} row {rec.row}")
                fps.append(gen.GetFingerprint(rec.mol))
                names.append(rec.id)
            continue
        mol, error = parse_smiles(entry)
        if mol is None:
            raise InputError(f"active {entry!r} does not parse: {error}", where="similarity.actives",
                             hint="give SMILES or the path of a molecule file")
        fps.append(gen.GetFingerprint(mol))
        names.append(entry)
    if not fps:
        raise InputError("similarity.actives holds no molecules", where="similarity.actives")
    return fps, names


@lru_cache(maxsize=8)
def _active_keys(actives: tuple[str, ...]) -> dict[str, str]:
    """InChIKey (of the molecule as given and as standardised) -> the active's name."""
    from rdkit import Chem, rdBase

    from theralab.chem.io import parse_smiles
    from theralab.chem.standardize import standardize

    keys: dict[str, str] = {}
    for entry in actives:
        path = Path(entry)
        lines = path.read_text().splitlines() if path.exists() else [entry]
        for line in lines:
            parts = line.replace(",", " ").split()
            if not parts or parts[0].lower() == "smiles":
                continue
            mol, _ = parse_smiles(parts[0])
            if mol is None:
                continue
            name = parts[1] if len(parts) > 1 else parts[0]
            with rdBase.BlockLogs():
                keys[Chem.MolToInchiKey(mol)] = name
                try:
                    keys[Chem.MolToInchiKey(standardize(mol).mol)] = name
                except InputError:
                    pass
    return keys


def _similarity(smiles: list[str], config: RunConfig) -> tuple[np.ndarray, list[str]]:
    from rdkit import Chem, DataStructs, rdBase

    from theralab.chem.fingerprints import morgan_generator

    sim = config.similarity
    active_fps, names = _active_fps(tuple(sim.actives), sim.radius, sim.bits)
    gen = morgan_generator(sim.radius, sim.bits)
    scores, nearest = np.zeros(len(smiles)), []
    for i, smi in enumerate(smiles):
        with rdBase.BlockLogs():  # standardised SMILES: nothing to report, nothing to print
            fp = gen.GetFingerprint(Chem.MolFromSmiles(smi))
        values = np.asarray(DataStructs.BulkTanimotoSimilarity(fp, active_fps))
        scores[i] = values.max() if sim.fusion == "max" else values.mean()
        nearest.append(names[int(values.argmax())])
    return scores, nearest


def _filter(df: pd.DataFrame, config: RunConfig) -> tuple[np.ndarray, list[str], Counter]:
    """Mask of rows passing rules and alerts; per-row reasons; rejection counts."""
    passed = np.ones(len(df), dtype=bool)
    rejected: Counter = Counter()
    reasons: list[list[str]] = [[] for _ in range(len(df))]
    for rule in config.filters.rules:
        ok = df[f"{rule}_pass"].to_numpy(dtype=bool)
        rejected[f"rule {rule}"] += int((passed & ~ok).sum())
        passed &= ok
        for i in np.flatnonzero(ok):
            reasons[i].append(f"{rule} ok")
    if config.filters.max_alerts is not None:
        ok = df["n_alerts"].to_numpy() <= config.filters.max_alerts
        rejected["structural alerts"] += int((passed & ~ok).sum())
        passed &= ok
        for i in np.flatnonzero(ok):
            reasons[i].append(f"{int(df['n_alerts'].iat[i])} alerts")
    return passed, ["; ".join(r) for r in reasons], rejected


@dataclass(frozen=True)
class Condition:
    """One filter on a column: a range end or a ``require`` comparison."""

    column: str
    label: str  # what a rejected molecule failed, e.g. "not hERG <= 0.3"
    suffix: str  # what a passing molecule's reason says after its value, e.g. "<= 0.3"
    test: Callable[[np.ndarray], np.ndarray]


def conditions(config: RunConfig) -> list[Condition]:
    """The run's ranges and ``require`` conditions, in the order written."""
    from theralab.discovery.screening.config import OPERATORS, parse_condition

    out = []
    for column, (low, high) in config.filters.ranges.items():
        out.append(Condition(column, f"{column} outside {low:g}-{high:g}", f"in {low:g}-{high:g}",
                             lambda v, lo=low, hi=high: (v >= lo) & (v <= hi)))
    for text in config.filters.require:
        column, op, number = parse_condition(text)
        out.append(Condition(column, f"not {column} {op} {number:g}", f"{op} {number:g}",
                             lambda v, f=OPERATORS[op], n=number: f(v, n)))
    return out


def apply_conditions(df: pd.DataFrame, todo: list[Condition], rejected: Counter) -> pd.DataFrame:
    """Keep the rows that meet every condition; add each met condition to the row's reasons.

    Descriptor conditions run before similarity and models (cheap rows out first); conditions on
    model outputs (``hERG <= 0.3``) run once the models have scored. A NaN (a row a model could not
    score) fails every condition on its column: a molecule never passes on a missing value.
    """
    if not len(df) or not todo:
        return df
    passed = np.ones(len(df), dtype=bool)
    reasons = [[r] if r else [] for r in df["reasons"]]
    for cond in todo:
        if cond.column not in df.columns:
            raise InputError(f"filter column {cond.column!r} does not exist", where="filters",
                             hint="use a descriptor (mw, clogp, qed, ...), 'similarity' or a model output")
        values = df[cond.column].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            ok = cond.test(values) & ~np.isnan(values)
        rejected[cond.label] += int((passed & ~ok).sum())
        passed &= ok
        for i in np.flatnonzero(ok):
            reasons[i].append(f"{cond.column} {values[i]:.3g} {cond.suffix}")
    return df.assign(reasons=["; ".join(r) for r in reasons])[passed].reset_index(drop=True)


@lru_cache(maxsize=1)
def profile_columns() -> frozenset[str]:
    """Columns of the screening profile (descriptors, rule flags, alerts), from one tiny molecule."""
    from theralab.chem.io import MolRecord, parse_smiles
    from theralab.discovery.screening.profile import fast_profile

    mol, _ = parse_smiles("CCO")
    df, _ = fast_profile([MolRecord(0, "x", "CCO", mol, None)], standardize=False)
    return frozenset(df.columns)


def check_config(config: RunConfig) -> None:
    """Everything a run file names must exist before a job is recorded or a chunk runs.

    Checks the models (registered name or directory), every filter and objective column (a
    descriptor, ``similarity`` or a model output named on the model's card), and the actives.
    Errors name the key and say what to write instead, so a typo never costs a failed job.
    """
    from theralab.discovery.admet.panel_model import PANEL_NAME, panel_outputs
    from theralab.models.base import resolve_model_dir
    from theralab.models.registry import load_card

    known = set(profile_columns()) | {"reasons"}
    if config.similarity.actives:
        _active_fps(tuple(config.similarity.actives), config.similarity.radius, config.similarity.bits)
        known |= {"similarity", "nearest_active"}
    open_ended = False  # a model whose card does not list its outputs: its columns are checked per chunk
    for i, model in enumerate(config.models):
        card = load_card(resolve_model_dir(model.name), verify=False)
        outputs = (card.model_extra or {}).get("outputs")
        if outputs is None:
            open_ended = True
            continue
        if model.column and model.column not in outputs:
            raise InputError(f"model {model.name} has no output {model.column!r}", where=f"models.{i}.column",
                             hint=f"outputs: {', '.join(outputs)}")
        known |= {model.prefix + c for c in ([model.column] if model.column else outputs)}
    named = [("filters", c.column) for c in conditions(config)]
    named += [(f"objectives.{i}.column", o.column) for i, o in enumerate(config.objectives)]
    for where, column in named:
        if column in known or open_ended:
            continue
        if column in panel_outputs() and not any(m.name == PANEL_NAME for m in config.models):
            hint = f"{column} is an ADMET panel endpoint: add [[models]] name = \"panel\""
        else:
            hint = "use a descriptor (mw, clogp, tpsa, qed, ...), 'similarity' (with actives) or a model output"
        raise InputError(f"unknown column {column!r}", where=where, hint=hint)


def activity_columns(config: RunConfig) -> set[str]:
    """Output columns of the run's activity models (``role``, else: ADMET cards are properties)."""
    from theralab.models.base import resolve_model_dir
    from theralab.models.registry import load_card

    columns: set[str] = set()
    for model in config.models:
        role = model.role
        card = load_card(resolve_model_dir(model.name), verify=False)
        if role is None:
            role = "property" if card.task.startswith("admet.") else "activity"
        if role == "activity":
            outputs = (card.model_extra or {}).get("outputs") or [getattr(card, "target", None) or card.name]
            names = [model.column] if model.column else list(outputs)
            columns |= {model.prefix + c for c in names}
    return columns


@lru_cache(maxsize=32)
def _plan_for(config_json: str) -> tuple[tuple[int, ...], str]:
    config = RunConfig.model_validate_json(config_json)
    n_actives = len(_active_fps(tuple(config.similarity.actives), config.similarity.radius,
                                config.similarity.bits)[0]) if config.similarity.actives else 0
    activity = activity_columns(config) if config.models else set()
    method = config.ranking.method
    dropped = [o for o in config.objectives if o.column in activity]
    if method == "desirability" or not dropped:
        keep = list(range(len(config.objectives)))
        note = ("desirability of " + ", ".join(o.column for o in config.objectives) if config.objectives
                else "similarity to the actives" if config.similarity.actives else "QED")
        return tuple(keep), note
    if method == "auto" and n_actives >= config.ranking.min_actives:
        note = (f"desirability of {', '.join(o.column for o in config.objectives)} "
                f"(learned: {n_actives} actives >= {config.ranking.min_actives})")
        return tuple(range(len(config.objectives))), note
    keep = [i for i, o in enumerate(config.objectives) if o.column not in activity]
    names = ", ".join(o.column for o in dropped)
    why = (f"{n_actives} actives < ranking.min_actives {config.ranking.min_actives}" if method == "auto"
           else "ranking.method = similarity")
    if not config.similarity.actives:
        note = f"activity model objective(s) {names} not ranked ({why}); no actives either"
    else:
        note = f"fall back to similarity: activity model objective(s) {names} reported, not ranked ({why})"
    return tuple(keep), note


def ranking_plan(config: RunConfig) -> tuple[list[Objective], str]:
    """The objectives that rank the hits, and one line saying which ranking was used and why.

    Fall back: with few actives (``ranking.min_actives``), an activity model trained on them is a
    worse ranker than the fused similarity it was trained from (docs/benchmarks/screening.md), so
    its objectives are reported in the hits but left out of the score, and ties (similarity's
    desirability saturates) are broken by the raw similarity (:func:`rank`): the order is then
    exactly max- (or mean-) fusion similarity's, adjusted only by property objectives (ADMET, QED).
    """
    keep, note = _plan_for(config.model_dump_json())
    return [config.objectives[i] for i in keep], note


def rank(passed: pd.DataFrame) -> pd.DataFrame:
    """Best first: by score, ties by similarity to the actives (when present), then by input row."""
    keys, ascending = ["score"], [False]
    if "similarity" in passed.columns:
        keys.append("similarity")
        ascending.append(False)
    return passed.sort_values(keys + ["row"], ascending=ascending + [True], kind="mergesort")


class ScreenJob:
    """Params: a run configuration (see :mod:`theralab.discovery.screening.config`) as a dict."""

    def plan(self, params: dict[str, Any], workdir: Path) -> list[dict[str, Any]]:
        config = parse_config(params)
        check_config(config)  # fail before any work on an unknown model, column or active
        source, smiles_column, id_column = config.run.library, config.run.smiles_column, config.run.id_column
        if not Path(source).exists():  # a registered library: its standardised, de-duplicated molecules
            from theralab.discovery.screening.libraries import library_path

            source = str(library_path(Path(source).name) / "molecules.parquet")
            smiles_column, id_column = "smiles", "id"
        return split_molecule_file(
            {"input": source, "smiles_column": smiles_column, "id_column": id_column,
             "chunk_size": config.run.chunk_size}, workdir, "screen.run")

    def run_chunk(self, params: dict[str, Any], index: int, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
        from theralab.chem.io import records_from_chunk
        from theralab.discovery.screening.profile import fast_profile
        from theralab.models.base import cached_predictor

        config = parse_config(params)
        records = records_from_chunk(pq.read_table(spec["input"]).to_pandas())
        # the same frames as theralab.chem.profile.profile_records, about 1.7x faster (see screening_profile)
        df, invalid = fast_profile(records, standardize=config.standardize.enabled,
                                   tautomer=config.standardize.tautomer)
        passed, reasons, rejected = _filter(df, config)
        df = df.assign(reasons=reasons)[passed].reset_index(drop=True)
        todo = conditions(config)
        early = [c for c in todo if c.column in df.columns]  # descriptor conditions: before the costly steps
        df = apply_conditions(df, early, rejected)
        if config.similarity.actives and len(df):
            sims, nearest = _similarity(df["smiles"].tolist(), config)
            df["similarity"], df["nearest_active"] = sims, nearest
            ok = sims >= config.similarity.min_similarity
            rejected[f"similarity < {config.similarity.min_similarity:g}"] += int((~ok).sum())
            df = df[ok].reset_index(drop=True)
            keys = _active_keys(tuple(config.similarity.actives))
            df["query_active"] = [keys.get(k, "") for k in df["inchikey"]]
            if config.similarity.exclude_actives:
                is_query = df["query_active"] != ""
                rejected["query actives excluded"] += int(is_query.sum())
                df = df[~is_query].reset_index(drop=True)
            df["reasons"] = [f"{r}; similarity {s:.2f} to {n}" for r, s, n in
                             zip(df["reasons"], df["similarity"], df["nearest_active"], strict=True)]
        notes: set[str] = set()
        for model in config.models:
            if not len(df):
                break
            with warnings.catch_warnings(record=True) as caught:  # library warnings go to the run, not the console
                warnings.simplefilter("always")
                predictions = cached_predictor(model.name).predict(df["smiles"].tolist())
            notes.update(f"{model.name}: {w.category.__name__}: {w.message}" for w in caught)
            columns = [model.column] if model.column else list(predictions.columns)
            for column in columns:
                if column not in predictions.columns:
                    raise InputError(f"model {model.name} has no output {column!r}", where="models.column",
                                     hint=f"outputs: {', '.join(predictions.columns)}")
                df[f"{model.prefix}{column}"] = predictions[column].to_numpy()
        df = apply_conditions(df, [c for c in todo if c not in early], rejected)
        df["score"] = self._score(df, config)
        write_parquet_atomic(df, workdir / "chunks" / f"{index:06d}.parquet")
        return {"rows": len(records), "invalid": len(invalid), "passed": len(df), "rejected": dict(rejected),
                "warnings": sorted(notes)[:50],
                "invalid_rows": invalid.head(1000).astype(str).to_dict("records")}

    @staticmethod
    def _score(df: pd.DataFrame, config: RunConfig) -> np.ndarray:
        if not len(df):
            return np.zeros(0)
        for objective in config.objectives:  # every objective is reported, ranked or not
            if objective.column not in df.columns:
                raise InputError(f"objective column {objective.column!r} does not exist", where="objectives",
                                 hint="use a descriptor (mw, clogp, qed, ...), 'similarity' or a model output")
            df[f"d_{objective.column}"] = desirability(df[objective.column].to_numpy(dtype=float), objective)
        ranked, _note = ranking_plan(config)
        if not ranked:
            return df["similarity"].to_numpy() if "similarity" in df.columns else df["qed"].to_numpy()
        return combined_score([df[f"d_{o.column}"].to_numpy() for o in ranked], [o.weight for o in ranked])

    def finalize(self, params: dict[str, Any], workdir: Path, stats: list[dict[str, Any]]) -> str:
        from theralab.discovery.screening.report import write_outputs

        config = parse_config(params)
        parts = [pq.read_table(workdir / "chunks" / f"{i:06d}.parquet").to_pandas() for i in range(len(stats))]
        passed = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
        passed = rank(passed)
        before = len(passed)
        passed = passed.drop_duplicates("inchikey", keep="first").reset_index(drop=True)
        funnel = {
            "input rows": sum(s["rows"] for s in stats),
            "invalid": sum(s["invalid"] for s in stats),
            **{k: v for k, v in sum((Counter(s["rejected"]) for s in stats), Counter()).items()},
            "duplicates (same InChIKey)": before - len(passed),
            "passed": len(passed),
        }
        funnel["ranking"] = ranking_plan(config)[1]
        hits = select_diverse(passed, config)
        funnel["selected"] = len(hits)
        invalid = [row for s in stats for row in s.get("invalid_rows", [])]
        notes = sorted({w for s in stats for w in s.get("warnings", [])})
        if notes:
            funnel["library warnings (warnings.json)"] = len(notes)
            Path(config.run.output_dir).mkdir(parents=True, exist_ok=True)
            (Path(config.run.output_dir) / "warnings.json").write_text(json.dumps(notes, indent=2))
        out = write_outputs(Path(config.run.output_dir), config, passed, hits, funnel, invalid)
        (Path(config.run.output_dir) / "funnel.json").write_text(json.dumps(funnel, indent=2))
        return str(out)


def select_diverse(passed: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """Top-N diverse hits: Butina cluster representatives (best score per cluster) or MaxMin picks."""
    from rdkit import Chem, DataStructs, rdBase

    from theralab.chem.fingerprints import morgan_generator

    div = config.diversity
    candidates = passed.head(div.candidates).reset_index(drop=True)
    if div.method == "none" or len(candidates) <= 1:
        return candidates.head(div.top_n).assign(cluster=range(min(len(candidates), div.top_n)))
    gen = morgan_generator(2, 2048)
    with rdBase.BlockLogs():
        fps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in candidates["smiles"]]
    if div.method == "butina":
        from rdkit.ML.Cluster import Butina

        dists = []
        for i in range(1, len(fps)):
            dists.extend(1.0 - np.asarray(DataStructs.BulkTanimotoSimilarity(fps[i], fps[:i])))
        clusters = Butina.ClusterData(dists, len(fps), div.cutoff, isDistData=True, reordering=True)
        best = sorted((min(c), n) for n, c in enumerate(clusters))  # candidates are score-sorted: min = best
        picks = [(index, cluster) for index, cluster in best][: div.top_n]
        chosen = candidates.iloc[[p[0] for p in picks]].assign(cluster=[p[1] for p in picks])
        return chosen.reset_index(drop=True)
    from rdkit.SimDivFilters import rdSimDivPickers

    picker = rdSimDivPickers.MaxMinPicker()
    n = min(div.top_n, len(fps))
    picks = list(picker.LazyBitVectorPick(fps, len(fps), n, firstPicks=[0], seed=42))
    picks.sort()
    return candidates.iloc[picks].assign(cluster=range(len(picks))).reset_index(drop=True)


def screen_summary(result_path: str) -> dict[str, Any]:
    """The funnel of a finished run (for the CLI and API)."""
    funnel = Path(result_path).parent / "funnel.json"
    return json.loads(funnel.read_text()) if funnel.exists() else {}


__all__ = ["Condition", "ScreenJob", "apply_conditions", "check_config", "combined_score", "conditions",
           "desirability", "rank", "ranking_plan", "screen_summary", "select_diverse"]
