"""Exact Tanimoto kernels over popcount-sorted packed fingerprints (numba, with a numpy fallback).

Layout the kernels expect: ``L`` is line-major ``(lines, n, 8)`` uint64 (``lines = ceil(W / 8)``
cache lines of 8 words per fingerprint; row ``i``'s words are ``L[:, i, :].ravel()``), rows sorted
by popcount; ``offsets[b]`` is the first row whose popcount is ``b`` (length ``bits + 2``);
``ordinals[i]`` is the input order of row ``i`` (used to break similarity ties the way a
brute-force scan in input order would).

Four levels of exact pruning, all variations on the Swamidass & Baldi (J Chem Inf Model 2007)
bounds:

1. **BitBound** on bins: a row with popcount ``b`` can reach Tanimoto ``t`` against a query with
   popcount ``a`` only if ``t * a <= b <= a / t``; whole bins outside are never read.
2. **Per-bin minimum overlap**: inside bin ``b`` the test ``c / (a + b - c) >= t`` is monotone in the
   overlap ``c``, so it becomes an integer ``c >= cmin(a, b, t)``, computed with the very float
   expression used for the final score (no rounding disagreement with RDKit).
3. **Per-word pre-filter**: ``wordcounts.u8`` holds each row's popcount per 64-bit word (32 bytes
   for 2048 bits, an eighth of the fingerprint). The overlap can never exceed
   ``sum_w min(a_w, b_w)``, so most rows are rejected from those 32 bytes without reading the
   fingerprint at all. For the 2048-bit Morgan MOSES set this cuts a threshold-0.6 scan about 4x
   compared with the plain ``min(a, b)`` bound. The sum is computed eight bytes per uint64
   (:func:`swar_view`).
4. **Early exit per cache line**: survivors are read one 64-byte line at a time; after each line
   the overlap so far plus the pre-filter bound of the unread words must still reach ``cmin``.
   Because the file is line-major, unread lines of a dropped row are never fetched (in a
   row-major file the hardware prefetcher would stream them in anyway).

Top-k scans bins outward from the query's popcount, in order of decreasing bin bound
``min(a, b) / max(a, b)``, and stops once that bound is below the current k-th best.

The numba functions are compiled with ``nogil=True`` so batches run on several threads over one
shared memory map. (A blocked multi-query kernel that streams each block once for many queries
was tried and was slower: after the pre-filter the scan is compute-bound, not memory-bound.)
The overlap block is written out inside each kernel on purpose: as a separate numba function,
even with ``inline="always"``, it ran 3-8x slower. Without numba the numpy path gives identical
results, only slower.
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

# SWAR constants for the pre-filter: eight per-word popcounts (bytes, each <= 64) per uint64
_HI = np.uint64(0x8080808080808080)
_LO16 = np.uint64(0x00FF00FF00FF00FF)
_ONE16 = np.uint64(0x0001000100010001)
_FF = np.uint64(0xFF)
_S7, _S8, _S48 = np.uint64(7), np.uint64(8), np.uint64(48)


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
    def _threshold_nb(L, SC, SW, offsets, q, qseg, qsw, a, lo, hi, cmin, out_rows, out_sims):  # type: ignore[no-untyped-def]
        """Threshold scan of bins ``lo..hi``. The overlap block is written out in each kernel
        on purpose: as a separate (even inlined) numba function it ran 3-8x slower here."""
        n = 0
        nsw = SW.shape[1]
        nl = L.shape[0]
        for b in range(lo, hi + 1):
            need = cmin[b]
            if need > min(a, b):
                continue
            for i in range(offsets[b], offsets[b + 1]):
                # pre-filter sum_w min(q_w, b_w), eight byte counts at a time (see swar_view)
                acc = np.uint64(0)
                for s in range(nsw):
                    qv = qsw[s]
                    sv = SW[i, s]
                    mask = ((((qv | _HI) - sv) & _HI) >> _S7) * _FF
                    low = qv ^ ((qv ^ sv) & mask)
                    acc += (low & _LO16) + ((low >> _S8) & _LO16)
                tot = np.int64((acc * _ONE16) >> _S48)
                if tot < need:
                    continue
                c = 0
                rest = tot
                ok = True
                for line in range(nl):
                    base = line * 8
                    for k in range(8):
                        c += _popcnt(L[line, i, k] & q[base + k])
                        rest -= min(qseg[base + k], np.int64(SC[i, base + k]))
                    if c + rest < need:
                        ok = False
                        break
                if ok:
                    denom = a + b - c
                    out_rows[n] = i
                    out_sims[n] = c / denom if denom > 0 else 0.0
                    n += 1
        return n

    @numba.njit(nogil=True, cache=True)
    def _segcounts_nb(L, out):  # type: ignore[no-untyped-def]
        for i in range(L.shape[1]):
            for line in range(L.shape[0]):
                for w in range(8):
                    out[i, 8 * line + w] = _popcnt(L[line, i, w])

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
    def _topk_nb(L, SC, SW, offsets, ordinals, q, qseg, qsw, a, k, max_count, best_rows, best_sims):  # type: ignore[no-untyped-def]
        """Exact top-k, bins visited outward from the query's popcount (see module docstring).
        Tried and slower or no faster on MOSES (CPU time, same run): seeding the k-th best from
        a sample of nearby rows; reading each bin's pre-filter survivors best bound first
        (random access costs more than the early k-th best saves); seeding from the exact
        similarities of the 64 rows with the best pre-filter bounds (over all bins it costs a
        second pre-filter pass, over the central bins only it lifts the k-th best too little)."""
        nsw = SW.shape[1]
        nl = L.shape[0]
        best_ord = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
        filled = 0
        worst = 0  # slot of the current k-th best once filled
        kth = -1.0
        up = a
        down = a - 1
        while True:
            # pick the side whose bin bound is larger
            bound_up = -1.0
            if up <= max_count:
                bound_up = (min(a, up) / max(a, up)) if max(a, up) > 0 else 0.0
            bound_down = -1.0
            if down >= 0:
                bound_down = (min(a, down) / max(a, down)) if max(a, down) > 0 else 0.0
            if bound_up < 0 and bound_down < 0:
                break
            if bound_up >= bound_down:
                b = up
                bound = bound_up
                up += 1
            else:
                b = down
                bound = bound_down
                down -= 1
            if filled == k and bound < kth:
                break
            need = 0 if filled < k else _need_for(a, b, kth)
            for i in range(offsets[b], offsets[b + 1]):
                if need > min(a, b):
                    break
                # --- exact overlap with early exit (same block as in _threshold_nb) ---
                acc = np.uint64(0)
                for s in range(nsw):
                    qv = qsw[s]
                    sv = SW[i, s]
                    mask = ((((qv | _HI) - sv) & _HI) >> _S7) * _FF
                    low = qv ^ ((qv ^ sv) & mask)
                    acc += (low & _LO16) + ((low >> _S8) & _LO16)
                tot = np.int64((acc * _ONE16) >> _S48)
                if tot < need:
                    continue
                c = 0
                rest = tot
                for line in range(nl):
                    base = line * 8
                    for w in range(8):
                        c += _popcnt(L[line, i, w] & q[base + w])
                        rest -= min(qseg[base + w], np.int64(SC[i, base + w]))
                    if c + rest < need:
                        c = -1
                        break
                if c < 0:
                    continue
                denom = a + b - c
                sim = c / denom if denom > 0 else 0.0
                o = ordinals[i]
                if filled < k:
                    best_rows[filled] = i
                    best_sims[filled] = sim
                    best_ord[filled] = o
                    filled += 1
                elif sim > kth or (sim == kth and o < best_ord[worst]):
                    best_rows[worst] = i
                    best_sims[worst] = sim
                    best_ord[worst] = o
                else:
                    continue
                if filled == k:
                    worst = 0
                    for j in range(1, k):
                        if best_sims[j] < best_sims[worst] or (
                            best_sims[j] == best_sims[worst] and best_ord[j] > best_ord[worst]
                        ):
                            worst = j
                    kth = best_sims[worst]
                    need = _need_for(a, b, kth)
        return filled

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


def query_segments(q: np.ndarray) -> np.ndarray:
    """Popcount of each 64-bit word of a padded query (the pre-filter's query side)."""
    return np.bitwise_count(q.astype(np.uint64)).astype(np.int64)


def swar_view(seg: np.ndarray) -> np.ndarray:
    """The ``(n, lines * 8)`` uint8 per-word popcounts seen as ``(n, lines)`` uint64, eight per word.

    Why: the pre-filter ``sum_w min(a_w, b_w)`` is the kernels' hot loop (every row in the BitBound
    range passes through it, and for a top-10 on MOSES that is nearly every row). Written per byte,
    numba widens each count to int64 and AVX2 has no 64-bit min, so the loop is compute-bound (a
    1.58M-row pre-filter alone: 20 ms; half as much per nibble was slower still). Eight counts per
    uint64 (SIMD within a register) take 10.5 ms: every count is at most 64, so ``(q | 0x80) - b``
    never borrows across bytes and its high bit says ``q >= b``; that selects the smaller byte, and
    pairs of bytes are added into 16-bit lanes, which hold at most ``2 * lines * 64`` (fine up to
    32,768 words). On the MOSES index the kernels went from 9.4 to 7.2 ms (threshold 0.7) and from
    20.5 to 18.0 ms (top-10) CPU per query, median of 50, same run, load 5 on 2 cores.
    """
    seg = np.ascontiguousarray(seg) if not seg.flags.c_contiguous else seg
    return seg.view(np.uint64)


def segment_counts(L: np.ndarray) -> np.ndarray:
    """Per-row popcount of every 64-bit word, ``(n, lines * 8)`` uint8 (the pre-filter data)."""
    out = np.zeros((L.shape[1], L.shape[0] * 8), dtype=np.uint8)
    if HAVE_NUMBA:
        _segcounts_nb(L, out)
        return out
    for s, e in _chunks(0, L.shape[1]):
        out[s:e] = np.bitwise_count(rows_of(L, s, e))
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
    L: np.ndarray, SC: np.ndarray, offsets: np.ndarray, q: np.ndarray, threshold: float, use_numba: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Rows (sorted order) and similarities of every row with Tanimoto >= ``threshold``.

    ``L`` is the line-major ``(lines, n, 8)`` array; ``q`` a packed query of any width <= lines * 8.
    """
    q = pad_query(q, L.shape[0])
    a = int(np.bitwise_count(q).sum())
    max_count = len(offsets) - 2
    lo, hi = bin_range(a, threshold, max_count)
    cmin = cmin_table(a, threshold, max_count + 1, lo, hi)
    start, stop = int(offsets[lo]), int(offsets[hi + 1])
    if use_numba and HAVE_NUMBA:
        rows = np.empty(stop - start, dtype=np.int64)
        sims = np.empty(stop - start, dtype=np.float64)
        qseg = query_segments(q)
        qsw = qseg.astype(np.uint8).view(np.uint64)
        n = _threshold_nb(L, SC, swar_view(SC), offsets, q, qseg, qsw, a, lo, hi, cmin, rows, sims)
        return rows[:n].copy(), sims[:n].copy()
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
    L: np.ndarray,
    SC: np.ndarray,
    offsets: np.ndarray,
    ordinals: np.ndarray,
    q: np.ndarray,
    k: int,
    use_numba: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar rows, by similarity descending then input order ascending."""
    q = pad_query(q, L.shape[0])
    a = int(np.bitwise_count(q).sum())
    max_count = len(offsets) - 2
    k = min(k, int(offsets[-1]))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if use_numba and HAVE_NUMBA:
        rows = np.empty(k, dtype=np.int64)
        sims = np.empty(k, dtype=np.float64)
        qseg = query_segments(q)
        qsw = qseg.astype(np.uint8).view(np.uint64)
        n = _topk_nb(L, SC, swar_view(SC), offsets, ordinals, q, qseg, qsw, a, k, max_count, rows, sims)
        rows, sims = rows[:n], sims[:n]
    else:
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
