"""Normalise mentions to identifiers: MeSH for chemicals and diseases, HGNC-style symbols for genes.

Why a lexicon plus fuzzy matching: the BC5CDR training annotations pair every mention string with
its MeSH concept ("cisplatin" -> D002945, "nephrotoxicity" -> D007674), which settles most mentions
by exact lookup of a normalised key (case, hyphens, plural ``s`` folded). Unseen spellings
("cis-platinum", "renal toxicities") are matched by cosine similarity of character 3-4-gram TF-IDF
vectors to the lexicon's names of the same type; the similarity becomes the confidence, and a
match below :data:`MIN_SIMILARITY` is left unnormalised. Abbreviations take the identifier of their
long form (:func:`normalise_document`).

Genes: no offline HGNC table is installable from PyPI (checked: the HGNC packages there query the
web service), so a gene keeps its surface form, upper-cased, as ``HGNC:<SYMBOL>`` with confidence
0.5 when it looks like a symbol, and no identifier when it is a name ("epidermal growth factor
receptor") unless an abbreviation gives it one ("... receptor (EGFR)").
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from theralab.errors import InputError
from theralab.literature.abbreviations import find_abbreviations
from theralab.literature.documents import Document, Mention

__all__ = ["MIN_SIMILARITY", "Normaliser", "gene_symbol", "key", "load_normaliser", "normalise_document"]

MIN_SIMILARITY = 0.55
LEXICON_NAME = "bc5cdr-mesh-lexicon"
LEXICON_DIR = Path(__file__).resolve().parent / "weights" / LEXICON_NAME
LEXICON_FILE = "lexicon.json"
_SYMBOL = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,9}(?:-?[0-9A-Za-z]{1,4})?$")


def key(text: str) -> str:
    """The lookup key of a name: lower case, punctuation to spaces, a final plural folded (-ies, -s)."""
    words = re.sub(r"[^0-9a-z]+", " ", text.lower()).split()
    if words and len(words[-1]) > 4 and words[-1].endswith("ies"):
        words[-1] = words[-1][:-3] + "y"
    elif words and len(words[-1]) > 4 and words[-1].endswith("s") and not words[-1].endswith(("ss", "us", "is")):
        words[-1] = words[-1][:-1]
    return " ".join(words)


def gene_symbol(text: str) -> tuple[str | None, float]:
    """``HGNC:<SYMBOL>`` for a symbol-like gene mention (surface form, upper case), confidence 0.5."""
    compact = text.strip()
    capitals = sum(c.isupper() for c in compact)
    if _SYMBOL.match(compact) and (capitals >= 2 or any(c.isdigit() for c in compact) or len(compact) <= 5):
        return f"HGNC:{compact.upper()}", 0.5
    return None, 0.0


class Normaliser:
    """Per type, normalised name -> identifier counts, with a character n-gram index for fuzzy matches."""

    def __init__(self, lexicon: dict[str, dict[str, dict[str, int]]]) -> None:
        self.lexicon = lexicon
        self._index: dict[str, Any] = {}

    @classmethod
    def fit(cls, docs: list[Document]) -> Normaliser:
        """From gold mentions with identifiers (BC5CDR training annotations)."""
        counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        for d in docs:
            for m in d.mentions:
                if m.identifier and m.type in ("Chemical", "Disease"):
                    counts[m.type][key(m.text)][m.identifier] += 1
        return cls({t: {k: dict(c) for k, c in sorted(names.items()) if k} for t, names in counts.items()})

    def _fuzzy(self, type_: str) -> Any:
        if type_ not in self._index:
            from sklearn.feature_extraction.text import TfidfVectorizer

            names = sorted(self.lexicon.get(type_, {}))
            vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True)
            matrix = vec.fit_transform(names) if names else None
            self._index[type_] = (names, vec, matrix)
        return self._index[type_]

    def normalise(self, text: str, type_: str) -> tuple[str | None, float]:
        """The identifier of one mention and a confidence in [0, 1] (``(None, 0.0)`` when unknown)."""
        if type_ == "Gene":
            return gene_symbol(text)
        names = self.lexicon.get(type_)
        if not names:
            return None, 0.0
        k = key(text)
        if k in names:
            ids = names[k]
            best = max(ids, key=lambda i: (ids[i], i))
            return best, round(ids[best] / sum(ids.values()), 4)
        if not k:
            return None, 0.0
        names_list, vec, matrix = self._fuzzy(type_)
        sims = (matrix @ vec.transform([k]).T).toarray().ravel()
        j = int(sims.argmax())
        if sims[j] < MIN_SIMILARITY:
            return None, 0.0
        ids = names[names_list[j]]
        best = max(ids, key=lambda i: (ids[i], i))
        return best, round(float(sims[j]) * ids[best] / sum(ids.values()), 4)

    def save(self, folder: Path) -> None:
        """The lexicon as JSON (sorted, so its checksum is reproducible)."""
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / LEXICON_FILE).write_text(json.dumps(self.lexicon, sort_keys=True, separators=(",", ":")))

    @classmethod
    def load(cls, folder: Path) -> Normaliser:
        """Read :meth:`save`'s lexicon."""
        return cls(json.loads((Path(folder) / LEXICON_FILE).read_text()))


def load_normaliser(folder: Path | None = None) -> Normaliser:
    """The shipped lexicon (checksum verified through its registry card)."""
    from theralab.models.registry import verified_dir

    return Normaliser.load(verified_dir(folder, LEXICON_DIR))


def normalise_document(doc: Document, normaliser: Normaliser) -> Document:
    """Fill ``identifier`` and fold the normaliser's confidence into each mention's (in place).

    A short form defined in the document ("NSCLC") takes its long form's identifier; a mention keeps
    an identifier it already has (gold, or set by abbreviation propagation).
    """
    long_of = {a.short: a for a in find_abbreviations(doc.text, doc.sentences or None)}
    for m in doc.mentions:
        if m.identifier:
            continue
        ident, conf = normaliser.normalise(m.text, m.type)
        if m.text in long_of:
            a = long_of[m.text]
            long_id, long_conf = normaliser.normalise(a.long, m.type)
            if long_id and (not ident or long_conf >= conf):
                ident, conf = long_id, long_conf
        m.identifier = ident
        m.confidence = round(m.confidence * conf, 4) if ident else m.confidence
    return doc


def accuracy(docs: list[Document], normaliser: Normaliser) -> dict[str, dict[str, float]]:
    """Share of gold mentions with a MeSH identifier whose predicted identifier is the same, per type.

    ``text``: from the mention text alone; ``document``: with the document's abbreviations.
    """
    out: dict[str, dict[str, float]] = {}
    for t in ("Chemical", "Disease"):
        n = right = right_doc = 0
        for d in docs:
            gold = [m for m in d.mentions if m.type == t and m.identifier]
            copy = Document(id=d.id, text=d.text, sentences=d.sentences, sections=d.sections,
                            mentions=[Mention(m.start, m.end, m.text, m.type) for m in gold])
            normalise_document(copy, normaliser)
            for m, c in zip(gold, copy.mentions, strict=True):
                n += 1
                right += normaliser.normalise(m.text, t)[0] == m.identifier
                right_doc += c.identifier == m.identifier
        out[t] = {"mentions": n, "accuracy_text": round(right / max(n, 1), 4),
                  "accuracy_document": round(right_doc / max(n, 1), 4)}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Build the shipped lexicon from the BC5CDR training set; score the development set."""
    from theralab.literature.ner.corpora import bc5cdr_documents
    from theralab.models.registry import ModelCard, save_card, sha256_file

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bc5cdr", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=LEXICON_DIR)
    args = ap.parse_args(argv)
    train_file = args.bc5cdr / "CDR_TrainingSet.PubTator.txt"
    if not train_file.is_file():
        raise InputError(f"{train_file} does not exist", hint="point --bc5cdr to ../shared/data/literature/bc5cdr")
    norm = Normaliser.fit(bc5cdr_documents(train_file))
    norm.save(args.out)
    metrics = {"bc5cdr_dev_gold_mentions": accuracy(bc5cdr_documents(args.bc5cdr / "CDR_DevelopmentSet.PubTator.txt"),
                                                    norm)}
    card = ModelCard(
        name=LEXICON_NAME, task="entity-normalisation", version="1",
        description="MeSH lexicon for Chemical and Disease mentions from the BC5CDR training annotations "
                    "(normalised mention text -> MeSH id counts), with char 3-4-gram TF-IDF fuzzy matching "
                    f"(cosine >= {MIN_SIMILARITY}) at run time.",
        training_data={"source": "BC5CDR training set (Li et al. 2016), ../shared/data/literature/bc5cdr",
                       "sha256": sha256_file(train_file),
                       "rows": sum(len(v) for v in norm.lexicon.values())},
        metrics=metrics, seeds=[],
        retrain="python -m theralab.literature.normalise --bc5cdr ../shared/data/literature/bc5cdr",
        weights={LEXICON_FILE: ""},
    )
    save_card(args.out, card)
    print(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    main()
