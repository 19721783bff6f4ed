"""Distributional word clusters from the training text, used as CRF features.

Why: a CRF sees "pancreatitis" and "hepatitis" as unrelated strings; words that occur in the same
contexts ("history of ___", "___ within 6 months") should share evidence. Clusters from a positive
PMI co-occurrence matrix reduced by SVD and grouped by k-means (two granularities) give the CRF
that sharing without any external embedding download. Built from the training split only.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from theralab.nlp.tokens import split_lines, tokenize

SIZES = (64, 256)


def build_clusters(texts: list[str], *, min_count: int = 2, contexts: int = 3000, dims: int = 100,
                   sizes: tuple[int, ...] = SIZES, seed: int = 13) -> dict[str, list[int]]:
    """word -> [cluster id at each of ``sizes``] for every word seen ``min_count`` times."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD

    lines = [[t.text.lower() for t in tokenize(line)] for text in texts for _, line in split_lines(text)]
    counts = Counter(w for ln in lines for w in ln)
    vocab = [w for w, c in counts.items() if c >= min_count]
    index = {w: i for i, w in enumerate(vocab)}
    ctx = {w: i for i, (w, _) in enumerate(counts.most_common(contexts))}
    rows, cols = [], []
    for ln in lines:
        for i, w in enumerate(ln):
            if w not in index:
                continue
            for d in (-2, -1, 1, 2):
                j = i + d
                if 0 <= j < len(ln) and ln[j] in ctx:
                    rows.append(index[w])
                    cols.append(ctx[ln[j]] * 4 + (d + 2 if d < 0 else d + 1))
    data = np.ones(len(rows))
    m = coo_matrix((data, (rows, cols)), shape=(len(vocab), len(ctx) * 4)).tocsr()
    total = m.sum()
    pw = np.asarray(m.sum(axis=1)).ravel() / total
    pc = np.asarray(m.sum(axis=0)).ravel() / total
    m = m.tocoo()
    pmi = np.log((m.data / total) / (pw[m.row] * pc[m.col]))
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (m.row[keep], m.col[keep])), shape=m.shape).tocsr()
    vec = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(ppmi)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True) + 1e-9
    ids = [MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3).fit_predict(vec) for k in sizes]
    return {w: [int(c[i]) for c in ids] for w, i in index.items()}


def save_clusters(clusters: dict[str, list[int]], path: Path) -> None:
    """Sorted JSON, so the same training text gives the same checksum."""
    Path(path).write_text(json.dumps(dict(sorted(clusters.items())), ensure_ascii=False, separators=(",", ":")),
                          encoding="utf-8")


def load_clusters(path: Path) -> dict[str, list[int]]:
    """Read :func:`save_clusters`'s JSON."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
