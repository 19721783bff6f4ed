"""Shared pieces of the exact Tanimoto search, and the plain-numpy search path.

Layout the searches expect: ``L`` is line-major ``(lines, n, 8)`` uint64 (``lines = ceil(W / 8)``
cache lines of 8 words per fingerprint; row ``i``'s words are ``L[:, i, :].ravel()``), rows sorted
by popcount; ``offsets[b]`` is the first row whose popcount is ``b`` (length ``bits + 2``);
``ordinals[i]`` is the input order of row ``i`` (used to break similarity ties the way a
brute-force scan in input order would).

Here: the BitBound bin range and the per-bin minimum overlap (Swamidass & Baldi, J Chem Inf Model
2007) that every search uses, the POPCNT intrinsic, the substructure screen kernel, and a numpy
implementation of threshold and top-k search (used without numba, and as a second,
independent implementation in the tests). The numba similarity kernels with the folded-sketch
pre-filter live in :mod:`theralab.chem.search.fold`.

1. **BitBound** on bins: a row with popcount ``b`` can reach Tanimoto ``t`` against a query with
   popcount ``a`` only if ``t * a <= b <= a / t``; whole bins outside are never read.
2. **Per-bin minimum overlap**: inside bin ``b`` the test ``c / (a + b - c) >= t`` is monotone in the
   overlap ``c``, so it becomes an integer ``c >= cmin(a, b, t)``, computed with the very float
   expression used for the final score (no rounding disagreement with RDKit).
"""

from __future__ import annotations

import math

import numpy as np

try:  # numba is optional: the numpy path below gives the same answers.
    import numba
    from numba import types
    from numba.extending import intrinsic

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_NUMBA = False

LINE_WORDS = 8  # 8 uint64 words = one 64-byte cache line


def cmin_table(a: int, threshold: float, nbins: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Smallest overlap ``c`` with ``c / (a + b - c) >= threshold`` for each popcount ``b``.

    Entries are ``min(a, b) + 1`` (unreachable) where no overlap suffices, and for bins outside
    ``[lo, hi]``. Computed with the same float64 division as the final score, so pruning never
    disagrees with the reported value. The search starts just below the algebraic solution
    ``t (a + b) / (1 + t)`` so each bin costs a couple of divisions.
    """
    hi = nbins - 1 if hi is None else hi
    out = np.array([min(a, b) + 1 for b in range(nbins)], dtype=np.int64)
    for b in range(lo, hi + 1):
        top = min(a, b)
        guess = threshold * (a + b) / (1.0 + threshold) if threshold > 0 else 0.0
        for c in range(max(0, math.floor(guess) - 2), top + 1):
            denom = a + b - c
            sim = c / denom if denom > 0 else 0.0
            if sim >= threshold:
                out[b] = c
                break
    return out


def bin_range(a: int, threshold: float, max_count: int) -> tuple[int, int]:
    """BitBound popcount range ``[lo, hi]`` (inclusive) that can reach ``threshold`` (widened by one
    on each side against float rounding; :func:`cmin_table` makes the final, exact decision)."""
    if threshold <= 0:
        return 0, max_count
    lo = max(0, math.floor(threshold * a) - 1)
    hi = min(max_count, math.ceil(a / threshold) + 1)
    return lo, hi


if HAVE_NUMBA:

    @intrinsic
    def _popcnt(typingctx, x):  # type: ignore[no-untyped-def]
        """LLVM ``ctpop`` on a uint64 (one POPCNT instruction on x86-64)."""
        sig = types.int64(types.uint64)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            return builder.ctpop(args[0])

        return sig, codegen

    @numba.njit(nogil=True, cache=True)
    def _need_for(a, b, kth):  # type: ignore[no-untyped-def]
        top = min(a, b)
        for c in range(top + 1):
            denom = a + b - c
            sim = c / denom if denom > 0 else 0.0
            if sim >= kth:
                return c
        return top + 1

    @numba.njit(nogil=True, cache=True)
    def _screen_nb(pat, q, out_rows):  # type: ignore[no-untyped-def]
        n = 0
        w = pat.shape[1]
        for i in range(pat.shape[0]):
            ok = True
            for k in range(w):
                if (pat[i, k] & q[k]) != q[k]:
                    ok = False
                    break
            if ok:
                out_rows[n] = i
                n += 1
        return n


def pad_query(q: np.ndarray, lines: int) -> np.ndarray:
    """Zero-pad a packed query to ``lines * 8`` words (the line-major row width)."""
    out = np.zeros(lines * 8, dtype=np.uint64)
    out[: len(q)] = q
    return out


def rows_of(L: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Row-major ``(stop - start, lines * 8)`` copy of a slice of a line-major array."""
    block = np.asarray(L[:, start:stop, :])
    return block.transpose(1, 0, 2).reshape(stop - start, L.shape[0] * LINE_WORDS)


def take_rows(L: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Row-major ``(len(rows), lines * 8)`` copy of arbitrary rows of a line-major array."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return np.zeros((0, L.shape[0] * LINE_WORDS), dtype=np.uint64)
    order = np.argsort(rows, kind="stable")
    block = np.asarray(L[:, rows[order], :]).transpose(1, 0, 2).reshape(len(rows), -1)
    out = np.empty_like(block)
    out[order] = block
    return out


def _chunks(start: int, stop: int, size: int = 1 << 16):  # type: ignore[no-untyped-def]
    for s in range(start, stop, size):
        yield s, min(stop, s + size)


def threshold_search(
    L: np.ndarray, offsets: np.ndarray, q: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rows (sorted order) and similarities of every row with Tanimoto >= ``threshold`` (numpy).

    ``L`` is the line-major ``(lines, n, 8)`` array; ``q`` a packed query of any width <= lines * 8.
    """
    q = pad_query(q, L.shape[0])
    a = int(np.bitwise_count(q).sum())
    max_count = len(offsets) - 2
    lo, hi = bin_range(a, threshold, max_count)
    cmin = cmin_table(a, threshold, max_count + 1, lo, hi)
    out_r, out_s = [], []
    for b in range(lo, hi + 1):
        if cmin[b] > min(a, b):
            continue
        for s, e in _chunks(int(offsets[b]), int(offsets[b + 1])):
            c = np.bitwise_count(rows_of(L, s, e) & q).sum(axis=1, dtype=np.int64)
            keep = np.nonzero(c >= cmin[b])[0]
            denom = a + b - c[keep]
            out_r.append(keep + s)
            out_s.append(np.where(denom > 0, c[keep] / np.maximum(denom, 1), 0.0))
    if not out_r:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(out_r), np.concatenate(out_s)


def topk_search(
    L: np.ndarray, offsets: np.ndarray, ordinals: np.ndarray, q: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar rows, by similarity descending then input order ascending (numpy)."""
    q = pad_query(q, L.shape[0])
    a = int(np.bitwise_count(q).sum())
    max_count = len(offsets) - 2
    k = min(k, int(offsets[-1]))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    rows, sims = _topk_numpy(L, offsets, ordinals, q, a, k, max_count)
    order = np.lexsort((ordinals[rows], -sims))
    return rows[order], sims[order]


def _topk_numpy(L, offsets, ordinals, q, a, k, max_count):  # type: ignore[no-untyped-def]
    def bound(b: int) -> float:
        return min(a, b) / max(a, b) if max(a, b) else 0.0

    rows = np.zeros(0, dtype=np.int64)
    sims = np.zeros(0, dtype=np.float64)
    for b in sorted(range(max_count + 1), key=lambda b: (-bound(b), b)):
        if len(rows) >= k and bound(b) < sims.min():
            break
        s, e = int(offsets[b]), int(offsets[b + 1])
        if s == e:
            continue
        c = np.bitwise_count(rows_of(L, s, e) & q).sum(axis=1, dtype=np.int64)
        denom = a + b - c
        new = np.where(denom > 0, c / np.maximum(denom, 1), 0.0)
        rows = np.concatenate([rows, np.arange(s, e, dtype=np.int64)])
        sims = np.concatenate([sims, new])
        if len(rows) > k:
            keep = np.lexsort((ordinals[rows], -sims))[:k]
            rows, sims = rows[keep], sims[keep]
    return rows, sims


def screen_search(pat: np.ndarray, q: np.ndarray, use_numba: bool = True) -> np.ndarray:
    """Rows whose (row-major) pattern fingerprint contains every bit of ``q`` (substructure candidates)."""
    if use_numba and HAVE_NUMBA:
        rows = np.empty(pat.shape[0], dtype=np.int64)
        n = _screen_nb(pat, q, rows)
        return rows[:n].copy()
    out = []
    for s, e in _chunks(0, pat.shape[0]):
        ok = np.all((pat[s:e] & q) == q, axis=1)
        out.append(np.nonzero(ok)[0] + s)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
