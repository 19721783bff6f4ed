"""Molecular fingerprints packed into uint64 words, and popcount helpers.

Why packed words: a similarity engine spends its time on ``popcount(query & row)``. Keeping each
fingerprint as a contiguous row of little-endian uint64 words (bit ``i`` lives in word ``i // 64``,
bit ``i % 64``) lets numpy and numba kernels run that loop at memory speed over a memory-mapped
file, with no RDKit objects in the hot path. The bits are exactly RDKit's, so a Tanimoto computed
here equals ``DataStructs.TanimotoSimilarity`` on the same molecule.

Fingerprint names (``FP_TYPES``):

* ``morgan2``: ECFP4-like Morgan, radius 2 (RDKit ``rdFingerprintGenerator`` defaults), 1024 or
  2048 bits (the de-facto standard for nearest-neighbour search).
* ``fmorgan2``: feature Morgan (FCFP4-like), radius 2, pharmacophoric atom invariants.
* ``rdkit``: RDKit topological (Daylight-like path) fingerprint, paths of 1 to 7 bonds.
* ``atompair``: atom-pair fingerprint (folded bits, no count simulation).
* ``maccs``: the 166 public MACCS keys (167 bits in RDKit, bit 0 unused), padded to 192.
* ``pattern``: RDKit's substructure-screening fingerprint; if ``A`` is a substructure of ``B``,
  every bit of ``pattern(A)`` is set in ``pattern(B)``. Used to screen before a real match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from theralab.errors import InputError

FP_TYPES: dict[str, dict[str, Any]] = {
    "morgan2": {"bits": (1024, 2048), "default_bits": 2048},
    "fmorgan2": {"bits": (1024, 2048), "default_bits": 2048},
    "rdkit": {"bits": (1024, 2048), "default_bits": 2048},
    "atompair": {"bits": (1024, 2048), "default_bits": 2048},
    "maccs": {"bits": (167,), "default_bits": 167},
    "pattern": {"bits": (1024, 2048), "default_bits": 2048},
}


@dataclass(frozen=True)
class FingerprintSpec:
    """Which fingerprint, how many bits, and the exact RDKit parameters (stored in manifests).

    Attributes:
        name: one of ``FP_TYPES``.
        bits: fingerprint length in bits.
        params: the RDKit generator parameters, recorded so an index says how it was made.
    """

    name: str
    bits: int
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def words(self) -> int:
        """Number of uint64 words per fingerprint (bits rounded up to a multiple of 64)."""
        return (self.bits + 63) // 64

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON manifests."""
        return asdict(self)


def fingerprint_spec(name: str = "morgan2", bits: int | None = None) -> FingerprintSpec:
    """Validate a fingerprint name and length and return its spec.

    Raises:
        InputError: unknown name, or a length this fingerprint does not come in.
    """
    key = name.lower().replace("-", "").replace("_", "")
    aliases = {
        "ecfp4": "morgan2",
        "morgan": "morgan2",
        "fcfp4": "fmorgan2",
        "ap": "atompair",
        "topological": "rdkit",
        "rdk": "rdkit",
    }
    key = aliases.get(key, key)
    if key not in FP_TYPES:
        raise InputError(f"unknown fingerprint type {name!r}", where="fp", hint=f"choose one of {', '.join(FP_TYPES)}")
    info = FP_TYPES[key]
    nbits = info["default_bits"] if bits is None else int(bits)
    if nbits not in info["bits"]:
        raise InputError(
            f"fingerprint {key!r} does not come in {nbits} bits",
            where="bits",
            hint=f"use one of {info['bits']}",
        )
    params: dict[str, Any] = {"fpSize": nbits}
    if key in ("morgan2", "fmorgan2"):
        params.update(
            radius=2,
            includeChirality=False,
            useBondTypes=True,
            includeRingMembership=True,
            featureInvariants=key == "fmorgan2",
        )
    elif key == "rdkit":
        params.update(minPath=1, maxPath=7, useHs=True, branchedPaths=True, useBondOrder=True, numBitsPerFeature=2)
    elif key == "atompair":
        params.update(minDistance=1, maxDistance=30, includeChirality=False, use2D=True, countSimulation=False)
    elif key == "maccs":
        params = {"keys": 167}
    elif key == "pattern":
        params.update(tautomerFingerprints=False)
    return FingerprintSpec(key, nbits, params)


_MORGAN: dict[tuple[int, int], Any] = {}


def morgan_generator(radius: int = 2, bits: int = 2048) -> Any:
    """RDKit's Morgan generator (ECFP-like, default invariants), built once per (radius, bits).

    The one place theralab builds a Morgan generator: similarity, diversity, explanations and the
    fingerprint models all share it, so a "Morgan r2 2048" means the same bits everywhere (the same
    as :func:`fingerprint_spec` ``morgan2`` with default options). Building a generator costs more
    than a fingerprint, hence the cache.
    """
    key = (int(radius), int(bits))
    if key not in _MORGAN:
        from rdkit.Chem import rdFingerprintGenerator as rfg

        _MORGAN[key] = rfg.GetMorganGenerator(radius=key[0], fpSize=key[1])
    return _MORGAN[key]


def morgan_bitvect(mol: Any, radius: int = 2, bits: int = 2048) -> Any:
    """Morgan fingerprint as an RDKit ``ExplicitBitVect`` (for ``DataStructs`` similarity functions)."""
    return morgan_generator(radius, bits).GetFingerprint(mol)


def morgan_counts(mol: Any, radius: int = 2, bits: int = 2048) -> np.ndarray:
    """Morgan count fingerprint as a numpy vector (the feature of the fingerprint models)."""
    return morgan_generator(radius, bits).GetCountFingerprintAsNumPy(mol)


class Fingerprinter:
    """Turns RDKit molecules into packed uint64 rows for one :class:`FingerprintSpec`.

    The RDKit generator is built once and reused (building it per molecule costs more than the
    fingerprint itself). Not thread-safe across threads sharing one instance; make one per worker.
    """

    def __init__(self, spec: FingerprintSpec) -> None:
        from rdkit.Chem import rdFingerprintGenerator as rfg

        self.spec = spec
        self._gen: Any = None
        # the spec's params are the generator's keyword arguments (what manifests record), not restated here
        p = dict(spec.params)
        if spec.name in ("morgan2", "fmorgan2"):
            inv = rfg.GetMorganFeatureAtomInvGen() if p.pop("featureInvariants") else None
            self._gen = rfg.GetMorganGenerator(**p, atomInvariantsGenerator=inv)
        elif spec.name == "rdkit":
            self._gen = rfg.GetRDKitFPGenerator(**p)
        elif spec.name == "atompair":
            self._gen = rfg.GetAtomPairGenerator(**p)

    def bitvect(self, mol: Any) -> Any:
        """The RDKit ``ExplicitBitVect`` (for cross-checks against RDKit's own similarity)."""
        from rdkit import Chem
        from rdkit.Chem import MACCSkeys

        if self._gen is not None:
            return self._gen.GetFingerprint(mol)
        if self.spec.name == "maccs":
            return MACCSkeys.GenMACCSKeys(mol)
        return Chem.PatternFingerprint(mol, fpSize=self.spec.bits)

    def bits(self, mol: Any) -> np.ndarray:
        """One fingerprint as a uint8 0/1 vector of length ``spec.bits``."""
        if self._gen is not None:
            return self._gen.GetFingerprintAsNumPy(mol).astype(np.uint8, copy=False)
        text = self.bitvect(mol).ToBitString()
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8) - ord("0")

    def pack(self, mol: Any) -> np.ndarray:
        """One fingerprint as ``spec.words`` packed uint64 words."""
        return pack_bits(self.bits(mol)[None, :], self.spec.words)[0]

    def pack_many(self, mols: Iterable[Any]) -> np.ndarray:
        """Fingerprints of many molecules as a ``(n, words)`` uint64 array."""
        rows = [self.bits(m) for m in mols]
        if not rows:
            return np.zeros((0, self.spec.words), dtype=np.uint64)
        return pack_bits(np.stack(rows), self.spec.words)


def pack_bits(bits: np.ndarray, words: int) -> np.ndarray:
    """Pack a ``(n, nbits)`` 0/1 array into ``(n, words)`` little-endian uint64 words.

    Bit ``i`` goes to word ``i // 64``, bit position ``i % 64``; missing tail bits are zero.
    """
    bits = np.asarray(bits, dtype=np.uint8)
    n, nbits = bits.shape
    if nbits < words * 64:
        bits = np.concatenate([bits, np.zeros((n, words * 64 - nbits), dtype=np.uint8)], axis=1)
    packed = np.packbits(bits, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False).reshape(n, words)


def unpack_bits(packed: np.ndarray, nbits: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: ``(n, words)`` uint64 to ``(n, nbits)`` uint8 0/1."""
    packed = np.ascontiguousarray(np.atleast_2d(packed), dtype="<u8")
    return np.unpackbits(packed.view(np.uint8), axis=1, bitorder="little")[:, :nbits]


def popcount(packed: np.ndarray) -> np.ndarray:
    """Number of set bits per row of a packed ``(n, words)`` array (or of one 1-D row)."""
    packed = np.asarray(packed, dtype=np.uint64)
    return np.bitwise_count(packed).sum(axis=-1, dtype=np.int64)


def common_bits(query: np.ndarray, packed: np.ndarray) -> np.ndarray:
    """``popcount(query & row)`` for every row of ``packed``."""
    return np.bitwise_count(np.bitwise_and(packed, query)).sum(axis=-1, dtype=np.int64)


def tanimoto(query: np.ndarray, packed: np.ndarray) -> np.ndarray:
    """Tanimoto ``c / (a + b - c)`` of one packed query against packed rows, as RDKit computes it.

    Two empty fingerprints score 0.0, as in RDKit.
    """
    c = common_bits(query, packed)
    denom = popcount(query) + popcount(packed) - c
    out = np.zeros(c.shape, dtype=np.float64)
    np.divide(c, denom, out=out, where=denom > 0)
    return out
