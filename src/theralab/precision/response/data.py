"""The drug-response matrix: ln(IC50) of drugs x cell lines, with drug structure and cell omics.

Loaded from DeepCDR's GDSC release (``gdsc_ic50_deepcdr.csv``: rows ``GDSC:<drug_id>``, columns
DepMap cell ids), drug SMILES via the GDSC drug list's PubChem ids, CCLE methylation (808 gene
promoters) as cell-line omics and the CCLE annotation's primary site as tissue. The model uses
the cell lines that have omics and the drugs that have a structure (DeepCDR's setting: 561 lines,
223 drugs), because the unseen-cell and unseen-drug splits need those features.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from theralab.errors import InputError


@dataclass
class ResponseData:
    """ln(IC50) matrix ``y`` (drugs x cells, NaN = not measured) and the side information."""

    y: np.ndarray
    drugs: list[str]
    cells: list[str]
    smiles: list[str]
    pathway: list[str]
    tissue: list[str]
    omics: np.ndarray  # cells x features

    @property
    def n_pairs(self) -> int:
        return int(np.isfinite(self.y).sum())


def load_gdsc(folder: str | Path) -> ResponseData:
    """Read the GDSC/DeepCDR files in ``folder`` (``precision/drug_response`` of the shared data)."""
    folder = Path(folder)
    need = ["gdsc_ic50_deepcdr.csv", "deepcdr_gdsc_drug_list.csv", "deepcdr_223drugs_pubchem_smiles.txt",
            "deepcdr_ccle_methylation_561celllines_808genes.csv", "deepcdr_ccle_cell_line_annotations_20181226.txt"]
    missing = [n for n in need if not (folder / n).exists()]
    if missing:
        raise InputError(f"drug-response files missing: {missing}", where=str(folder))
    ic50 = pd.read_csv(folder / need[0], index_col=0)
    drugs = pd.read_csv(folder / need[1])
    smiles = pd.read_csv(folder / need[2], sep="\t", header=None, names=["pubchem", "smiles"], dtype=str)
    meth = pd.read_csv(folder / need[3], index_col=0)
    ann = pd.read_csv(folder / need[4], sep="\t", dtype=str)
    drugs["key"] = "GDSC:" + drugs["drug_id"].astype(str)
    drugs = drugs.merge(smiles.drop_duplicates("pubchem"), left_on=drugs["PubCHEM"].astype(str), right_on="pubchem")
    drugs = drugs[drugs["key"].isin(ic50.index)].drop_duplicates("key")
    cells = [c for c in ic50.columns if c in meth.index]
    tissue = ann.drop_duplicates("depMapID").set_index("depMapID")["Site_Primary"].reindex(cells).fillna("unknown")
    y = ic50.loc[drugs["key"], cells].to_numpy(dtype=float)
    return ResponseData(y=y, drugs=drugs["key"].tolist(), cells=cells, smiles=drugs["smiles"].tolist(),
                        pathway=drugs["Target pathway"].fillna("unknown").tolist(), tissue=tissue.tolist(),
                        omics=meth.loc[cells].to_numpy(dtype=float))


def split_pairs(data: ResponseData, kind: str, *, test_fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """A boolean test mask (drugs x cells) over measured pairs for one split.

    ``random``: pairs at random; ``cell``: all pairs of held-out cell lines (unseen cells); ``drug``:
    all pairs of held-out drugs (unseen drugs).
    """
    rng = np.random.default_rng(seed)
    observed = np.isfinite(data.y)
    if kind == "random":
        return observed & (rng.uniform(size=data.y.shape) < test_fraction)
    if kind == "cell":
        held = rng.uniform(size=len(data.cells)) < test_fraction
        return observed & held[None, :]
    if kind == "drug":
        held = rng.uniform(size=len(data.drugs)) < test_fraction
        return observed & held[:, None]
    raise InputError(f"unknown split {kind!r}", hint="random, cell or drug")
