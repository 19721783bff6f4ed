"""The pruned kernels against brute force on small random libraries built straight from bits.

Random libraries exercise what real ones rarely do: many exact ties in similarity (rows repeated
and tiny fingerprints), whole popcount bins empty, rows with no bits, and k as large as or larger
than the library. Ties must be broken by input order (``ordinals``), exactly as a brute-force scan
in input order does; similarities must be equal as floats. The folded-sketch kernels
(:mod:`theralab.chem.search.fold`, the numba path the index uses) are held to the same answers:
their sketch bound must never reject a row that qualifies.
"""

from __future__ import annotations

import numpy as np
import pytest

from theralab.chem.search import fold as F
from theralab.chem.search import kernels as K
from theralab.chem.search.merge import line_major

BACKENDS = [True, False] if K.HAVE_NUMBA else [False]


def _topk(L, offsets, ordinals, q, k, use_numba):  # type: ignore[no-untyped-def]
    if use_numba:
        return F.topk_search(L, *F.sketches_of(L), offsets, ordinals, q, k)
    return K.topk_search(L, offsets, ordinals, q, k)


def _threshold(L, offsets, q, t, use_numba):  # type: ignore[no-untyped-def]
    if use_numba:
        return F.threshold_search(L, *F.sketches_of(L), offsets, q, t)
    return K.threshold_search(L, offsets, q, t)


def _library(seed: int, n: int, words: int, density: float) -> tuple[np.ndarray, ...]:
    """A popcount-sorted line-major library; returns (L, offsets, ordinals, packed rows in input order)."""
    rng = np.random.default_rng(seed)
    bits = rng.random((n, words * 64)) < density
    bits[rng.integers(0, n, size=n // 4)] = bits[rng.integers(0, n, size=n // 4)]  # duplicates: exact ties
    bits[0] = False  # an empty fingerprint
    bits[1] = True  # a full one: every sketch word saturates
    packed = np.packbits(bits, axis=1, bitorder="little").view(np.uint64)
    counts = np.bitwise_count(packed).sum(axis=1)
    ordinal = rng.permutation(n).astype(np.int64)  # input order is not the sorted order
    order = np.lexsort((ordinal, counts))
    rows = packed[order]
    L = np.ascontiguousarray(line_major(rows))
    offsets = np.searchsorted(counts[order], np.arange(words * 64 + 2), side="left").astype(np.int64)
    by_input = np.empty_like(packed)
    by_input[ordinal[order]] = rows
    return L, offsets, ordinal[order], by_input


def _brute(by_input: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Similarities of every row (input order) and the ranking: similarity desc, input order asc."""
    c = np.bitwise_count(by_input & q).sum(axis=1).astype(np.int64)
    a = int(np.bitwise_count(q).sum())
    b = np.bitwise_count(by_input).sum(axis=1).astype(np.int64)
    denom = a + b - c
    sims = np.where(denom > 0, c / np.maximum(denom, 1), 0.0)
    return sims, np.lexsort((np.arange(len(sims)), -sims))


@pytest.mark.parametrize("use_numba", BACKENDS)
@pytest.mark.parametrize(
    ("seed", "n", "words", "density"),
    [(0, 300, 2, 0.08), (1, 120, 1, 0.15), (2, 600, 8, 0.02), (3, 200, 4, 0.9), (4, 150, 16, 0.5)],
)
def test_top_k_equals_brute_force_with_ties(use_numba: bool, seed: int, n: int, words: int, density: float) -> None:
    L, offsets, ordinals, by_input = _library(seed, n, words, density)
    rng = np.random.default_rng(seed + 100)
    queries = [by_input[5], by_input[n - 1]] + [
        np.packbits(rng.random(words * 64) < density, bitorder="little").view(np.uint64) for _ in range(6)
    ]
    for q in queries:
        if not np.bitwise_count(q).any():
            continue
        sims, rank = _brute(by_input, q)
        for k in (1, 3, 10, 57, n - 1, n, n + 5):
            rows, got = _topk(L, offsets, ordinals, q, k, use_numba)
            want = rank[: min(k, n)]
            assert ordinals[rows].tolist() == want.tolist(), (seed, k)
            assert got.tolist() == sims[want].tolist(), (seed, k)
        for t in (0.1, 0.3, 0.5, 1.0):
            rows, got = _threshold(L, offsets, q, t, use_numba)
            assert sorted(ordinals[rows].tolist()) == sorted(np.flatnonzero(sims >= t).tolist())
            assert np.array_equal(np.sort(got), np.sort(sims[sims >= t]))


def test_top_k_when_every_row_ties() -> None:
    """All rows identical: the answer is the first k rows in input order, whatever the layout."""
    rows = np.tile(np.array([[0b1011, 0]], dtype=np.uint64), (50, 1))
    L = np.ascontiguousarray(line_major(rows))
    offsets = np.searchsorted(np.full(50, 3), np.arange(130), side="left").astype(np.int64)
    ordinals = np.arange(50, dtype=np.int64)[::-1].copy()  # sorted row i is input row 49 - i
    for use_numba in BACKENDS:
        got_rows, sims = _topk(L, offsets, ordinals, np.array([0b11, 0], dtype=np.uint64), 7, use_numba)
        assert ordinals[got_rows].tolist() == list(range(7))
        assert sims.tolist() == [2 / 3] * 7


# -- folded-sketch kernels (theralab.chem.search.fold) --------------------------------------

NEEDS_NUMBA = pytest.mark.skipif(not K.HAVE_NUMBA, reason="the folded-sketch kernels need numba")

LIBRARIES = [(0, 300, 2, 0.08), (1, 120, 1, 0.15), (2, 600, 8, 0.02), (3, 200, 4, 0.9), (5, 4000, 32, 0.03)]


def _queries(by_input: np.ndarray, seed: int, words: int, density: float) -> list[np.ndarray]:
    rng = np.random.default_rng(seed + 100)
    qs = [by_input[5], by_input[-1]] + [
        np.packbits(rng.random(words * 64) < density, bitorder="little").view(np.uint64) for _ in range(6)
    ]
    return [q for q in qs if np.bitwise_count(q).any()]


@NEEDS_NUMBA
def test_sketch_bound_is_an_upper_bound_on_the_overlap() -> None:
    L, _, _, by_input = _library(5, 4000, 32, 0.03)
    rows = K.take_rows(L, np.arange(L.shape[1]))
    for words in (F.FOLD_WORDS, F.FOLD2_WORDS):
        sketch = F.fold_rows(rows, words)
        for q in _queries(by_input, 5, 32, 0.03):
            qp = K.pad_query(q, L.shape[0])
            levels = F.query_levels(qp, words)
            bound = sum(np.bitwise_count(sketch & lv).sum(axis=1) for lv in levels)
            overlap = np.bitwise_count(rows & qp).sum(axis=1)
            assert np.all(bound >= overlap)
            assert bound.mean() < np.bitwise_count(qp).sum()  # and it prunes something


@NEEDS_NUMBA
@pytest.mark.parametrize(("seed", "n", "words", "density"), LIBRARIES)
def test_fold_searches_equal_brute_force(seed: int, n: int, words: int, density: float) -> None:
    L, offsets, ordinals, by_input = _library(seed, n, words, density)
    FD, FE = F.sketches_of(L)
    queries = _queries(by_input, seed, words, density)
    for q in queries:
        sims, rank = _brute(by_input, q)
        for k in (1, 3, 10, 57, n - 1, n, n + 5):
            rows, got = F.topk_search(L, FD, FE, offsets, ordinals, q, k)
            want = rank[: min(k, n)]
            assert ordinals[rows].tolist() == want.tolist(), (seed, k)
            assert got.tolist() == sims[want].tolist(), (seed, k)
        for t in (0.1, 0.3, 0.5, 1.0):
            rows, got = F.threshold_search(L, FD, FE, offsets, q, t)
            assert sorted(ordinals[rows].tolist()) == sorted(np.flatnonzero(sims >= t).tolist())
            assert np.array_equal(np.sort(got), np.sort(sims[sims >= t]))
    for k in (1, 10, n):  # a group sharing one pass gives each query its own exact answer
        for q, (rows, got) in zip(queries, F.topk_many(L, FD, FE, offsets, ordinals, queries, k), strict=True):
            sims, rank = _brute(by_input, q)
            want = rank[: min(k, n)]
            assert ordinals[rows].tolist() == want.tolist(), (seed, k)
            assert got.tolist() == sims[want].tolist(), (seed, k)


def test_sketches_read_once_equal_direct_folds() -> None:
    """The 128-bit sketch folded from the 256-bit one equals folding the fingerprints directly."""
    rng = np.random.default_rng(3)
    L = rng.integers(0, 2**63, size=(4, 300, 8), dtype=np.uint64)
    FD, FE = F.sketches_of(L)
    assert np.array_equal(FD, F.fold_line_major(L, F.FOLD_WORDS).T)
    assert np.array_equal(FE, F.fold_line_major(L, F.FOLD2_WORDS))
    assert FD.flags.c_contiguous
