"""Drug-target affinity data: the Davis and KIBA matrices, a user's CSV, and the four splits.

Why pairs over index arrays: Davis is 68 drugs x 442 kinases and KIBA 2,111 x 229. Storing each
drug and each target once, and a pair as two indices and a label, keeps featurisation to the unique
molecules and sequences (a model encodes 68 graphs, not 25,000), and makes the cold splits (which
partition drugs or targets, not pairs) one line each.

Setting 1 is DeepDTA's published random split (Ozturk et al. 2018): the measured entries of the
matrix, enumerated row-major (drug-major), indexed by ``folds/train_fold_setting1.txt`` (five
folds) and ``folds/test_fold_setting1.txt``.
"""

from __future__ import annotations

import csv
import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theralab.errors import InputError

MAX_SEQUENCE = 5000
IUPAC_RESIDUES = set("ACDEFGHIKLMNPQRSTVWYBXZUO")  # 20 standard + ambiguity codes, Sec, Pyl
SPLITS = ("setting1", "random", "cold-drug", "cold-target", "cold-both")


@dataclass
class DTIData:
    """Unique drugs and targets, and the measured pairs between them.

    Attributes:
        drugs: SMILES per drug.
        targets: amino-acid sequence per target.
        drug_idx, target_idx: per pair, the index into ``drugs`` / ``targets``.
        y: per pair, the affinity (pKd for Davis, KIBA score, or the user's unit).
        drug_ids, target_ids: names shown to users (database ids, gene names, row numbers).
        name: where the data came from.
        unit: what ``y`` measures.
    """

    drugs: list[str]
    targets: list[str]
    drug_idx: np.ndarray
    target_idx: np.ndarray
    y: np.ndarray
    drug_ids: list[str] = field(default_factory=list)
    target_ids: list[str] = field(default_factory=list)
    name: str = "user"
    unit: str = "affinity"

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, rows: np.ndarray) -> DTIData:
        """The same drugs and targets with only the pairs ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        return DTIData(self.drugs, self.targets, self.drug_idx[rows], self.target_idx[rows], self.y[rows],
                       self.drug_ids, self.target_ids, self.name, self.unit)


@dataclass(frozen=True)
class BadRow:
    """A user row that was skipped, and why (1-based data row as the user sees it)."""

    row: int
    reason: str


def sequence_problem(seq: str) -> str | None:
    """Why a protein sequence cannot be used, or ``None`` when it can.

    Accepts the 20 standard residues, IUPAC ambiguity codes (B, Z, X), selenocysteine (U) and
    pyrrolysine (O), in either case; rejects empty sequences, anything longer than 5,000 residues
    (titin-sized inputs are almost always a pasted genome or file by mistake) and other characters.
    """
    text = "".join(seq.split()).upper()
    if not text:
        return "empty protein sequence"
    if len(text) > MAX_SEQUENCE:
        return f"protein sequence has {len(text):,} residues; at most {MAX_SEQUENCE:,} are accepted"
    bad = sorted(set(text) - IUPAC_RESIDUES)
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        return f"protein sequence has non-amino-acid characters: {shown}"
    return None


def clean_sequence(seq: str, where: str = "sequence") -> str:
    """Uppercase a sequence without whitespace, or raise InputError with the reason."""
    why = sequence_problem(seq)
    if why:
        raise InputError(why, where=where, hint="paste one protein as one-letter amino-acid codes")
    return "".join(seq.split()).upper()


def read_fasta_or_sequence(text: str, where: str = "target sequence") -> tuple[str, str]:
    """``(name, sequence)`` from FASTA text (first record) or a raw sequence."""
    text = text.strip()
    name = "target"
    if text.startswith(">"):
        lines = text.splitlines()
        name = lines[0][1:].strip().split()[0] if lines[0][1:].strip() else "target"
        body = []
        for line in lines[1:]:
            if line.startswith(">"):
                break
            body.append(line)
        text = "".join(body)
    return name, clean_sequence(text, where)


def _read_json(path: Path) -> OrderedDict:
    return json.loads(path.read_text(), object_pairs_hook=OrderedDict)


def _matrix(path: Path) -> np.ndarray:
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return np.array([[float(v) for v in r] for r in rows], dtype=np.float64)


def _load_matrix_set(root: Path, matrix_file: str, name: str, unit: str, transform) -> DTIData:
    root = Path(root)
    for f in ("ligands_can.txt", "proteins.txt", matrix_file):
        if not (root / f).exists():
            raise InputError(f"{root} has no {f}", where=str(root), hint="point at a DeepDTA-format data folder")
    ligands, proteins = _read_json(root / "ligands_can.txt"), _read_json(root / "proteins.txt")
    y = _matrix(root / matrix_file)
    if y.shape != (len(ligands), len(proteins)):
        raise InputError(f"matrix is {y.shape}, expected {len(ligands)} x {len(proteins)}", where=matrix_file)
    rows, cols = np.where(~np.isnan(y))  # row-major, as DeepDTA enumerates the folds
    return DTIData(list(ligands.values()), list(proteins.values()), rows.astype(np.int64), cols.astype(np.int64),
                   transform(y[rows, cols]).astype(np.float32), list(ligands), list(proteins), name, unit)


def load_davis(root: str | Path) -> DTIData:
    """Davis et al. 2011 kinase panel, Kd in nM turned into pKd = -log10(Kd / 1e9)."""
    return _load_matrix_set(Path(root), "affinities_Kd_nM.txt", "davis", "pKd", lambda kd: -np.log10(kd / 1e9))


def load_kiba(root: str | Path) -> DTIData:
    """KIBA (Tang et al. 2014) scores as given (higher = tighter binding in DeepDTA's version)."""
    return _load_matrix_set(Path(root), "affinities_kiba_score.txt", "kiba", "KIBA score", lambda s: s)


def load_benchmark(name: str, data_root: str | Path) -> DTIData:
    """``davis`` or ``kiba`` from ``<data_root>/dti_<name>``."""
    name = name.lower()
    if name not in ("davis", "kiba"):
        raise InputError(f"unknown data set {name!r}", where="dataset", hint="davis or kiba")
    return (load_davis if name == "davis" else load_kiba)(Path(data_root) / f"dti_{name}")


def setting1_folds(root: str | Path) -> tuple[list[np.ndarray], np.ndarray]:
    """DeepDTA's setting-1 folds: five training folds and the test fold (pair indices)."""
    folds = Path(root) / "folds"
    train = json.loads((folds / "train_fold_setting1.txt").read_text())
    test = json.loads((folds / "test_fold_setting1.txt").read_text())
    return [np.asarray(f, dtype=np.int64) for f in train], np.asarray(test, dtype=np.int64)


def read_pairs_csv(path: str | Path, *, max_rows: int | None = None) -> tuple[DTIData, list[BadRow]]:
    """A user's CSV/TSV with ``smiles``, ``sequence`` and ``affinity`` columns.

    Every row is checked; usable rows become pairs and the others come back as :class:`BadRow`
    with the reason (bad SMILES, bad or empty or over-long sequence, non-numeric or missing
    affinity), so one typo does not sink a file.

    Raises:
        InputError: the file is missing or lacks one of the three columns, or no row is usable.
    """
    from theralab.chem.io import parse_smiles

    path = Path(path)
    if not path.is_file():
        raise InputError(f"file not found: {path}", where=str(path))
    text = path.read_text(errors="replace")
    dialect = "excel-tab" if path.suffix.lower() in (".tsv", ".tab") or ("\t" in text.split("\n", 1)[0]) else "excel"
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    columns = {c.strip().lower(): c for c in (reader.fieldnames or [])}
    aliases = {"smiles": ("smiles", "drug", "compound"),
               "sequence": ("sequence", "target", "protein", "target_sequence"),
               "affinity": ("affinity", "y", "label", "pkd", "value")}
    found: dict[str, str] = {}
    for want, names in aliases.items():
        hit = next((columns[n] for n in names if n in columns), None)
        if hit is None:
            raise InputError(f"{path.name} has no {want!r} column", where=str(path),
                             hint="columns must be smiles, sequence, affinity (first line is the header)")
        found[want] = hit
    drugs: dict[str, int] = {}
    targets: dict[str, int] = {}
    di, ti, ys, bad = [], [], [], []
    for n, row in enumerate(reader, start=1):
        if max_rows is not None and n > max_rows:
            break
        smi = (row.get(found["smiles"]) or "").strip()
        seq = row.get(found["sequence"]) or ""
        raw = (row.get(found["affinity"]) or "").strip()
        reasons = []
        mol, why = parse_smiles(smi)
        if mol is None:
            reasons.append(f"SMILES: {why}")
        why_seq = sequence_problem(seq)
        if why_seq:
            reasons.append(why_seq)
        try:
            value = float(raw)
            if not math.isfinite(value):
                reasons.append(f"affinity is not a finite number: {raw!r}")
        except ValueError:
            reasons.append(f"affinity is not a number: {raw!r}" if raw else "affinity is missing")
        if reasons:
            bad.append(BadRow(n, "; ".join(reasons)))
            continue
        seq = "".join(seq.split()).upper()
        di.append(drugs.setdefault(smi, len(drugs)))
        ti.append(targets.setdefault(seq, len(targets)))
        ys.append(value)
    if not ys:
        first = f" (row {bad[0].row}: {bad[0].reason})" if bad else ""
        raise InputError(f"{path.name} has no usable rows{first}", where=str(path))
    data = DTIData(list(drugs), list(targets), np.asarray(di, dtype=np.int64), np.asarray(ti, dtype=np.int64),
                   np.asarray(ys, dtype=np.float32), [f"drug{i}" for i in range(len(drugs))],
                   [f"target{i}" for i in range(len(targets))], path.stem, "affinity")
    return data, bad


def _partition(n: int, rng: np.random.Generator, fractions: tuple[float, float]) -> np.ndarray:
    """0/1/2 (train/valid/test) label per item, shuffled, with at least one item in each part."""
    order = rng.permutation(n)
    n_test = max(1, round(n * fractions[1]))
    n_valid = max(1, round(n * fractions[0]))
    labels = np.zeros(n, dtype=np.int64)
    labels[order[:n_valid]] = 1
    labels[order[n_valid : n_valid + n_test]] = 2
    return labels


def split_pairs(data: DTIData, kind: str = "random", *, seed: int = 0, valid: float = 0.1, test: float = 0.1,
                setting1_root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test pair indices for one of the splits.

    * ``setting1``: DeepDTA's published folds (needs ``setting1_root``); training folds 1-4 train,
      fold 0 validates (early stopping), the test fold tests.
    * ``random``: pairs shuffled.
    * ``cold-drug`` / ``cold-target``: drugs (or targets) partitioned; no test drug (target) is
      seen in training.
    * ``cold-both``: drugs and targets both partitioned; a test pair has an unseen drug AND an
      unseen target, and pairs mixing parts are dropped (so it uses fewer pairs).
    """
    kind = kind.lower()
    if kind not in SPLITS:
        raise InputError(f"unknown split {kind!r}", where="split", hint=", ".join(SPLITS))
    rng = np.random.default_rng(seed)
    if kind == "setting1":
        if setting1_root is None:
            raise InputError("setting1 needs the benchmark's folds", where="split",
                             hint="use davis or kiba, or choose random / cold-drug / cold-target / cold-both")
        folds, test_idx = setting1_folds(setting1_root)
        return np.concatenate(folds[1:]), folds[0], test_idx
    if kind == "random":
        labels = _partition(len(data), rng, (valid, test))
    elif kind == "cold-drug":
        labels = _partition(len(data.drugs), rng, (valid, test))[data.drug_idx]
    elif kind == "cold-target":
        labels = _partition(len(data.targets), rng, (valid, test))[data.target_idx]
    else:
        d = _partition(len(data.drugs), rng, (valid, test))[data.drug_idx]
        t = _partition(len(data.targets), rng, (valid, test))[data.target_idx]
        labels = np.where(d == t, d, -1)
    idx = np.arange(len(data))
    return idx[labels == 0], idx[labels == 1], idx[labels == 2]
