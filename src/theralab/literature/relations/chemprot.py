"""Chemical-gene relations (ChemProt CPR:3,4,5,6,9): a linear classifier over the sentence around the pair.

Why linear and sparse: on two shared CPU cores a logistic regression over word n-grams (the words
between the two entities weigh most: "inhibits", "agonist of", "is metabolised by") trains in
seconds, ships as a JSON file of weights (safe to load, readable) and types a pair in microseconds.
The ChemProt copy here (SciBERT's) holds related pairs only, so this model *types* a relation;
whether a chemical and a gene mentioned in one sentence are related at all is decided by
:func:`theralab.literature.relations.extract` from a trigger word in the sentence (say so in figures).

Groups (BioCreative VI): CPR:3 upregulator/activator, CPR:4 downregulator/inhibitor, CPR:5 agonist,
CPR:6 antagonist, CPR:9 substrate/product of.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theralab.errors import InputError, ModelError

WEIGHTS = Path(__file__).resolve().parent / "weights" / "chemprot"
GROUPS = {
    "UPREGULATOR": "CPR:3", "ACTIVATOR": "CPR:3", "INDIRECT-UPREGULATOR": "CPR:3",
    "DOWNREGULATOR": "CPR:4", "INHIBITOR": "CPR:4", "INDIRECT-DOWNREGULATOR": "CPR:4",
    "AGONIST": "CPR:5", "AGONIST-ACTIVATOR": "CPR:5", "AGONIST-INHIBITOR": "CPR:5",
    "ANTAGONIST": "CPR:6",
    "SUBSTRATE": "CPR:9", "PRODUCT-OF": "CPR:9", "SUBSTRATE_PRODUCT-OF": "CPR:9",
}
CLASSES = ["CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9"]
_TOKEN = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]")
_MARKED = re.compile(r"\[\[ (.+?) \]\]|<< (.+?) >>")


def read_chemprot(path: Path, skipped: list[str] | None = None) -> list[tuple[str, int, int, int, int, str]]:
    """(sentence, chem start, chem end, gene start, gene end, CPR group) per line of a SciBERT ChemProt jsonl.

    The ``[[ chemical ]]`` and ``<< gene >>`` markers are removed and their offsets kept; a line whose
    markers cannot be told apart (an entity nested in the other) is skipped and named in ``skipped``.
    """
    out = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            label = GROUPS[row["label"]]
        except (ValueError, KeyError) as exc:
            raise InputError(f"not a ChemProt line: {exc}", where=f"{path}:{number}") from None
        try:
            out.append((*unmark(row["text"]), label))
        except ValueError as exc:
            if skipped is None:
                raise InputError(str(exc), where=f"{path}:{number}") from None
            skipped.append(f"{path}:{number}")
    return out


def unmark(text: str) -> tuple[str, int, int, int, int]:
    """Remove the markers of one ChemProt sentence: (text, chem start, chem end, gene start, gene end)."""
    out, pos, spans = [], 0, {}
    for m in _MARKED.finditer(text):
        out.append(text[pos:m.start()])
        start = sum(map(len, out))
        inner = m.group(1) or m.group(2)
        out.append(inner)
        spans["chem" if m.group(1) else "gene"] = (start, start + len(inner))
        pos = m.end()
    out.append(text[pos:])
    if set(spans) != {"chem", "gene"}:
        raise ValueError("a ChemProt sentence needs one [[ chemical ]] and one << gene >>")
    return "".join(out), *spans["chem"], *spans["gene"]


def pair_features(text: str, cs: int, ce: int, gs: int, ge: int) -> list[str]:
    """Sparse features of a chemical [cs, ce) and gene [gs, ge) in one sentence.

    Words between the two (unigrams, bigrams, with their order "CHEM..GENE" or "GENE..CHEM"), the
    three words on each side, the words inside each entity (``-induced``, ``receptor``), the distance.
    """
    first, second = ("C", "G") if cs < gs else ("G", "C")
    lo, hi = (ce, gs) if cs < gs else (ge, cs)
    between = [t.lower() for t in _TOKEN.findall(text[lo:hi])] if lo <= hi else []
    before = [t.lower() for t in _TOKEN.findall(text[:min(cs, gs)])][-3:]
    after = [t.lower() for t in _TOKEN.findall(text[max(ce, ge):])][:3]
    order = first + second
    feats = [f"order={order}", f"dist={min(len(between), 10) // 2}"]
    feats += [f"b={w}" for w in between] + [f"bo={order}:{w}" for w in between]
    feats += [f"bb={a}_{b}" for a, b in zip(between, between[1:], strict=False)]
    feats += [f"pre={w}" for w in before] + [f"post={w}" for w in after]
    feats += [f"c={w.lower()}" for w in _TOKEN.findall(text[cs:ce])][-2:]
    feats += [f"g={w.lower()}" for w in _TOKEN.findall(text[gs:ge])][-2:]
    feats += [f"s={t.lower()}" for t in _TOKEN.findall(text) if len(t) > 3]
    if between:
        feats += [f"b0={between[0]}", f"b-1={between[-1]}"]
    return feats


@dataclass
class ChemProtModel:
    """Multinomial logistic regression over :func:`pair_features` (weights in JSON)."""

    vocab: dict[str, int]
    coef: list[list[float]]
    intercept: list[float]
    classes: list[str]

    @classmethod
    def train(cls, rows: list[tuple[str, int, int, int, int, str]], *, c: float = 4.0, min_count: int = 2,
              seed: int = 13) -> ChemProtModel:
        """Fit on (sentence, offsets, group) rows (:func:`read_chemprot`)."""
        from collections import Counter

        import numpy as np
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression

        feats = [set(pair_features(*r[:5])) for r in rows]
        counts = Counter(f for fs in feats for f in fs)
        vocab = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= min_count))}
        labels = [r[5] for r in rows]
        if len(set(labels)) < 2:
            raise ModelError("ChemProt training needs at least two relation groups")
        x = _sparse(feats, vocab, csr_matrix, np)
        lr = LogisticRegression(C=c, max_iter=2000, random_state=seed)
        lr.fit(x, labels)
        coef = lr.coef_.tolist()
        if len(lr.classes_) == 2:  # binary: expand to two rows so scoring is the same
            coef = [[-v for v in coef[0]], coef[0]]
            intercept = [-float(lr.intercept_[0]), float(lr.intercept_[0])]
        else:
            intercept = lr.intercept_.tolist()
        return cls(vocab, [[round(v, 5) for v in row] for row in coef], intercept, [str(k) for k in lr.classes_])

    def proba(self, text: str, cs: int, ce: int, gs: int, ge: int) -> dict[str, float]:
        """Probability of each CPR group for one pair."""
        idx = [self.vocab[f] for f in set(pair_features(text, cs, ce, gs, ge)) if f in self.vocab]
        norm = 1 / math.sqrt(len(idx)) if idx else 0.0
        scores = [b + norm * sum(row[i] for i in idx) for row, b in zip(self.coef, self.intercept, strict=True)]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        return {k: e / total for k, e in zip(self.classes, exp, strict=True)}

    def predict(self, text: str, cs: int, ce: int, gs: int, ge: int) -> tuple[str, float]:
        """The most likely group and its probability."""
        p = self.proba(text, cs, ce, gs, ge)
        label = max(p, key=p.__getitem__)
        return label, p[label]

    def save(self, folder: Path, card: dict[str, Any] | None = None) -> Path:
        """Write ``chemprot.json`` and the model card."""
        from theralab.models.registry import ModelCard, save_card

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "chemprot.json").write_text(json.dumps({"classes": self.classes, "intercept": self.intercept,
                                                          "vocab": self.vocab, "coef": self.coef},
                                                         separators=(",", ":")))
        save_card(folder, ModelCard(name="literature-chemprot", task="chemical-gene relation type (ChemProt CPR)",
                                    weights={"chemprot.json": ""}, **(card or {})))
        return folder

    @classmethod
    def load(cls, folder: Path | None = None) -> ChemProtModel:
        """Load (checksum verified) the shipped model or the one in ``folder``."""
        from theralab.models.registry import verified_dir

        data = json.loads((verified_dir(folder, WEIGHTS) / "chemprot.json").read_text())
        return cls(data["vocab"], data["coef"], data["intercept"], data["classes"])


def _sparse(feats: list[set[str]], vocab: dict[str, int], csr_matrix: Any, np: Any) -> Any:
    rows, cols, vals = [], [], []
    for i, fs in enumerate(feats):
        idx = [vocab[f] for f in fs if f in vocab]
        for j in idx:
            rows.append(i)
            cols.append(j)
            vals.append(1 / math.sqrt(len(idx)))
    return csr_matrix((vals, (rows, cols)), shape=(len(feats), len(vocab)), dtype=np.float64)


def micro_f1(pred: list[str], gold: list[str], classes: list[str] = CLASSES) -> float:
    """Micro-F1 over the five evaluated groups (a prediction outside them counts as none)."""
    tp = sum(p == g and g in classes for p, g in zip(pred, gold, strict=True))
    n_pred = sum(p in classes for p in pred)
    n_gold = sum(g in classes for g in gold)
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_gold if n_gold else 0.0
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.0
