"""Featurisers for drug-target pairs: SMILES and residue tokens, RDKit graphs, ECFP and k-mers.

Why several: each model family reads the pair differently. The DeepDTA-style CNN reads characters
(SMILES and one-letter residues) as integer tokens; the graph model reads atoms and bonds; the
baseline reads a fixed-length ECFP (``theralab.chem.fingerprints``) beside a protein k-mer
composition. All of them are pure functions of the text, so a saved model re-featurises a new
pair exactly as it did its training pairs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# DeepDTA's character sets (Ozturk et al. 2018): 64 SMILES characters and 25 residue letters.
SMILES_CHARS = ("#%)(+-.1032547698=ACBEDGFIHKMLONPSRUTWVY[Z]_acbedgfihmlonsruty@/\\")
PROTEIN_CHARS = "ABCDEFGHIKLMNOPQRSTUVWXYZ"
SMILES_VOCAB = {c: i + 1 for i, c in enumerate(SMILES_CHARS)}  # 0 = padding
PROTEIN_VOCAB = {c: i + 1 for i, c in enumerate(PROTEIN_CHARS)}
UNKNOWN_SMILES = len(SMILES_VOCAB) + 1  # a character DeepDTA's set lacks (rare: '*', '$')

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
KMER_INDEX = {"".join(p): i for i, p in enumerate(itertools.chain(
    AMINO_ACIDS, ("".join(q) for q in itertools.product(AMINO_ACIDS, repeat=2))))}
KMER_DIM = len(KMER_INDEX)  # 20 one-mers + 400 two-mers = 420


def encode_smiles(smiles: Sequence[str], max_len: int) -> np.ndarray:
    """Integer tokens of each SMILES, truncated or zero-padded to ``max_len`` (DeepDTA's scheme)."""
    out = np.zeros((len(smiles), max_len), dtype=np.int64)
    for i, text in enumerate(smiles):
        codes = [SMILES_VOCAB.get(c, UNKNOWN_SMILES) for c in text[:max_len]]
        out[i, : len(codes)] = codes
    return out


def encode_protein(sequences: Sequence[str], max_len: int) -> np.ndarray:
    """Integer residue tokens, truncated or zero-padded to ``max_len``."""
    out = np.zeros((len(sequences), max_len), dtype=np.int64)
    for i, seq in enumerate(sequences):
        codes = [PROTEIN_VOCAB.get(c, PROTEIN_VOCAB["X"]) for c in seq[:max_len]]
        out[i, : len(codes)] = codes
    return out


def kmer_composition(sequences: Sequence[str]) -> np.ndarray:
    """1-mer and 2-mer frequencies (420 columns, each block summing to 1).

    Why composition rather than one-hot identity: it is defined for a protein never seen in
    training, so a cold-target prediction has something to go on.
    """
    out = np.zeros((len(sequences), KMER_DIM), dtype=np.float32)
    for i, seq in enumerate(sequences):
        ones = [KMER_INDEX[c] for c in seq if c in KMER_INDEX]
        twos = [KMER_INDEX[seq[j : j + 2]] for j in range(len(seq) - 1) if seq[j : j + 2] in KMER_INDEX]
        if ones:
            np.add.at(out[i], ones, 1.0 / len(ones))
        if twos:
            np.add.at(out[i], twos, 1.0 / len(twos))
    return out


def kmer_set(seq: str, k: int = 3) -> set[str]:
    """The set of distinct k-mers of a sequence (for target similarity)."""
    return {seq[j : j + k] for j in range(len(seq) - k + 1)}


def kmer_similarity(query: str, references: Sequence[str], k: int = 3) -> tuple[float, int]:
    """Highest 3-mer Jaccard similarity of ``query`` to any reference sequence, and its index.

    A cheap stand-in for sequence identity: identical sequences score 1, unrelated ones near 0,
    and close homologues (same family, few mutations) score high.
    """
    return best_jaccard(kmer_set(query, k), [kmer_set(r, k) for r in references])


def best_jaccard(query: set[str], references: Sequence[set[str]]) -> tuple[float, int]:
    """Highest Jaccard similarity of one k-mer set to a list of them, and its index (-1 if none)."""
    best, where = 0.0, -1
    for i, ref in enumerate(references):
        union = len(query | ref)
        sim = len(query & ref) / union if union else 0.0
        if sim > best:
            best, where = sim, i
    return best, where


def ecfp(smiles: Sequence[str], bits: int = 1024) -> np.ndarray:
    """Morgan radius-2 (ECFP4-like) bits as a float matrix, from THE project fingerprints."""
    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec
    from theralab.chem.io import parse_smiles

    fp = Fingerprinter(fingerprint_spec("morgan2", bits))
    out = np.zeros((len(smiles), bits), dtype=np.float32)
    for i, text in enumerate(smiles):
        mol, _ = parse_smiles(text)
        if mol is not None:
            out[i] = fp.bits(mol)
    return out


# --------------------------------------------------------------------------- molecular graphs
ATOM_SYMBOLS = ["C", "N", "O", "S", "F", "Si", "P", "Cl", "Br", "Mg", "Na", "Ca", "Fe", "As", "Al", "I", "B",
                "V", "K", "Tl", "Yb", "Sb", "Sn", "Ag", "Pd", "Co", "Se", "Ti", "Zn", "H", "Li", "Ge", "Cu",
                "Au", "Ni", "Cd", "In", "Mn", "Zr", "Cr", "Pt", "Hg", "Pb", "Unknown"]
ATOM_DIM = len(ATOM_SYMBOLS) + 11 + 11 + 11 + 1  # GraphDTA's 78 atom features


def _one_hot(value: object, choices: Sequence[object]) -> list[float]:
    value = value if value in choices else choices[-1]
    return [float(value == c) for c in choices]


@dataclass(frozen=True)
class MolGraph:
    """One molecule as atom features and a directed edge list (both directions of each bond)."""

    x: np.ndarray  # (atoms, ATOM_DIM) float32
    edges: np.ndarray  # (2, 2 * bonds) int64


def mol_graph(smiles: str) -> MolGraph:
    """GraphDTA's atom features (symbol, degree, H count, implicit valence, aromaticity) over RDKit.

    Raises:
        ValueError: the SMILES does not parse (callers validate SMILES before featurising).
    """
    from rdkit import Chem

    from theralab.chem.io import parse_smiles

    mol, why = parse_smiles(smiles)
    if mol is None:
        raise ValueError(why or "bad SMILES")
    rng = list(range(11))
    feats = [
        _one_hot(a.GetSymbol(), ATOM_SYMBOLS) + _one_hot(a.GetDegree(), rng) + _one_hot(a.GetTotalNumHs(), rng)
        + _one_hot(a.GetValence(Chem.ValenceType.IMPLICIT), rng)
        + [float(a.GetIsAromatic())]
        for a in mol.GetAtoms()
    ]
    src, dst = [], []
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        src += [i, j]
        dst += [j, i]
    return MolGraph(np.asarray(feats, dtype=np.float32), np.asarray([src, dst], dtype=np.int64).reshape(2, -1))
