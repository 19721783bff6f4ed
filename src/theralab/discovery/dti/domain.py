"""Applicability domain: how close a query pair is to what the model was trained on.

Two distances, both cheap and both explainable to a user:

* drug: Tanimoto similarity (Morgan radius 2, 2,048 bits, ``theralab.chem.fingerprints``) to the
  nearest training drug, and that drug's id;
* target: 3-mer Jaccard similarity of the sequence to the nearest training target (1 for a
  training target, high for close homologues, near 0 for an unrelated fold).

A pair is *in domain* when both reach their thresholds (defaults 0.4 and 0.5; stored in the card).
Published cold-drug KIBA CIs near 0.71 are why this flag exists: a prediction for an unseen
chemotype is much less reliable than the random-split CI suggests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from theralab.discovery.dti.featurize import best_jaccard, kmer_set

DRUG_THRESHOLD = 0.4
TARGET_THRESHOLD = 0.5


@dataclass
class Domain:
    """The training drugs and targets a model saw, and the in-domain thresholds."""

    drugs: list[str]
    drug_ids: list[str]
    targets: list[str]
    target_ids: list[str]
    drug_threshold: float = DRUG_THRESHOLD
    target_threshold: float = TARGET_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return {"drugs": self.drugs, "drug_ids": self.drug_ids, "targets": self.targets,
                "target_ids": self.target_ids, "drug_threshold": self.drug_threshold,
                "target_threshold": self.target_threshold}

    def __post_init__(self) -> None:
        self._fps: np.ndarray | None = None
        self._kmers: list[set[str]] | None = None

    def _train_fps(self) -> np.ndarray:
        if self._fps is None:
            self._fps = _packed(self.drugs)
        return self._fps

    def drug_similarity(self, smiles: list[str]) -> tuple[np.ndarray, list[str]]:
        """Nearest training drug similarity and id per query (NaN / '' for unparseable SMILES)."""
        from theralab.models.uncertainty import nearest_similarity

        fps, ok = _packed(smiles, with_mask=True)
        sims = np.full(len(smiles), np.nan)
        names = [""] * len(smiles)
        if ok.any():
            best, where = nearest_similarity(fps[ok], self._train_fps())
            for k, i in enumerate(np.flatnonzero(ok)):
                sims[i] = best[k]
                names[i] = self.drug_ids[where[k]] if where[k] >= 0 else ""
        return sims, names

    def target_similarity(self, sequence: str) -> tuple[float, str]:
        """Nearest training target by 3-mer Jaccard, and its id."""
        if sequence in self.targets:  # a training target: skip the k-mer scan
            return 1.0, self.target_ids[self.targets.index(sequence)]
        if self._kmers is None:
            self._kmers = [kmer_set(t) for t in self.targets]
        sim, where = best_jaccard(kmer_set(sequence), self._kmers)
        return sim, self.target_ids[where] if where >= 0 else ""


def _packed(smiles: list[str], with_mask: bool = False) -> Any:
    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec
    from theralab.chem.io import parse_smiles

    fp = Fingerprinter(fingerprint_spec("morgan2", 2048))
    rows = np.zeros((len(smiles), fp.spec.words), dtype=np.uint64)
    ok = np.zeros(len(smiles), dtype=bool)
    for i, s in enumerate(smiles):
        mol, _ = parse_smiles(s)
        if mol is not None:
            rows[i] = fp.pack(mol)
            ok[i] = True
    return (rows, ok) if with_mask else rows[ok]
