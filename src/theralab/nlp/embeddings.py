"""Word vectors pre-trained by us: skip-gram with negative sampling (word2vec) in PyTorch.

Why our own and not a downloaded set: the project ships no weights fetched from a hub, and
general-domain vectors know little of criteria language. Unlabelled text (the training trials'
criteria and PubMed abstracts; no annotations are read) is enough for word2vec to put ``hba1c``
near ``glycated`` and ``creatinine`` near ``bilirubin``, which helps the BiLSTM tagger on words rare
in the labelled training lines. A dozen lines of torch replace a gensim dependency; for ~400k
tokens it trains in about two minutes on one core.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def train_word2vec(sentences: list[list[str]], *, dim: int = 100, window: int = 5, negative: int = 5,
                   epochs: int = 8, min_count: int = 2, lr: float = 0.005, batch: int = 1024,
                   seed: int = 13, sample: float = 1e-3) -> tuple[list[str], Any]:
    """Skip-gram vectors for every word seen at least ``min_count`` times.

    Args:
        sentences: tokenised, normalised lines (see :func:`theralab.nlp.neural.tagger.norm_word`).
        dim, window, negative, epochs, lr, batch: the usual word2vec settings (Adam on the two
            embedding tables; a dynamic window, as in word2vec, weights near words more).
        min_count: rarer words get no vector (the tagger learns theirs from labelled data).
        seed: makes the vectors reproducible.
        sample: frequent-word subsampling threshold (word2vec's ``sample``).

    Returns:
        The words and a ``[len(words), dim]`` float32 numpy array of their input vectors.
    """
    import numpy as np
    import torch

    counts = Counter(w for s in sentences for w in s)
    words = sorted(w for w, c in counts.items() if c >= min_count)
    if not words:
        return [], np.zeros((0, dim), dtype=np.float32)
    index = {w: i for i, w in enumerate(words)}
    freq = np.array([counts[w] for w in words], dtype=np.float64)
    total = freq.sum()
    keep_p = np.minimum(1.0, (np.sqrt(freq / (sample * total)) + 1) * (sample * total) / freq)
    noise = torch.tensor(freq ** 0.75 / (freq ** 0.75).sum(), dtype=torch.float)
    seqs = [[index[w] for w in s if w in index] for s in sentences]
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    emb_in = torch.nn.Embedding(len(words), dim)
    emb_out = torch.nn.Embedding(len(words), dim)
    torch.nn.init.uniform_(emb_in.weight, -0.5 / dim, 0.5 / dim)
    torch.nn.init.zeros_(emb_out.weight)
    opt = torch.optim.Adam([*emb_in.parameters(), *emb_out.parameters()], lr=lr)
    for _ in range(epochs):
        centers: list[int] = []
        contexts: list[int] = []
        for s in seqs:
            s = [w for w in s if rng.random() < keep_p[w]]
            for i, w in enumerate(s):
                r = int(rng.integers(1, window + 1))
                for j in range(max(0, i - r), min(len(s), i + r + 1)):
                    if j != i:
                        centers.append(w)
                        contexts.append(s[j])
        if not centers:
            break
        order = torch.from_numpy(rng.permutation(len(centers)))
        c_all, o_all = torch.tensor(centers)[order], torch.tensor(contexts)[order]
        for k in range(0, len(order), batch):
            c, o = c_all[k:k + batch], o_all[k:k + batch]
            neg = torch.multinomial(noise, len(c) * negative, replacement=True).view(len(c), negative)
            v = emb_in(c)
            pos = torch.nn.functional.logsigmoid((v * emb_out(o)).sum(-1))
            negs = torch.nn.functional.logsigmoid(-(emb_out(neg) @ v.unsqueeze(2)).squeeze(2)).sum(-1)
            loss = -(pos + negs).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    vec = emb_in.weight.detach().numpy().astype(np.float32)
    norms = np.linalg.norm(vec, axis=1, keepdims=True)
    vec = vec / np.maximum(norms, 1e-8)  # unit length: the tagger scales them to its own init
    return words, vec
