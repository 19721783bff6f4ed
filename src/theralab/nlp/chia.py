"""Read the Chia corpus (BRAT standoff) into documents, entities and BIO-tagged token sequences.

Chia (Kury et al., Scientific Data 2020; CC BY 4.0) annotates the eligibility criteria of 1,000
trials; 800 are in ``../shared/data/trials/chia``, one ``NCT…_{inc,exc}.txt`` per criteria block
with its ``.ann``. Two simplifications make the annotations fit a linear BIO tagger, applied alike
to training and evaluation (the benchmark also scores against the unflattened gold):

* text is read as raw bytes (BRAT offsets count ``\r\n`` as two characters; universal-newline
  reading would shift every offset after the first line of the 1,269 CRLF files);
* a discontinuous entity (``331 356;368 376``) is taken as its covering span;
* ``Reference_point`` is not modelled: 94% of its mentions sit inside a ``Temporal`` span;
* nested/overlapping entities of the modelled types are flattened greedily, longest first (ties:
  earlier start, then :data:`TYPE_PRIORITY`); ``Scope`` and the annotation-quality labels
  (``Parsing_Error``, ``Non-query-able``…) are not modelled.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

from theralab.errors import InputError
from theralab.nlp.tokens import Token, split_lines, tokenize

#: Entity types the NER learns, in tie-break priority order.
ENTITY_TYPES: tuple[str, ...] = (
    "Condition",
    "Drug",
    "Procedure",
    "Measurement",
    "Device",
    "Observation",
    "Person",
    "Value",
    "Temporal",
    "Negation",
    "Qualifier",
    "Multiplier",
    "Mood",
    "Visit",
)
TYPE_PRIORITY = {t: i for i, t in enumerate(ENTITY_TYPES)}
#: Annotations kept beside the entities but not tagged: they group entities (``Scope``) or anchor a
#: time window (``Reference_point``); an auxiliary training task can read them (``second_layer``).
STRUCTURE_TYPES: tuple[str, ...] = ("Scope", "Reference_point")


@dataclass(frozen=True)
class Span:
    """A gold or predicted entity: type and [start, end) character offsets into the document."""

    type: str
    start: int
    end: int
    text: str = ""


@dataclass
class ChiaDoc:
    """One criteria block (inclusion or exclusion list of one trial)."""

    doc_id: str  # e.g. NCT00050349_inc
    text: str
    spans: list[Span] = field(default_factory=list)  # every modelled-type entity (may overlap)
    negated: set[tuple[int, int]] = field(default_factory=set)  # spans Chia links to a Negation
    structure: list[Span] = field(default_factory=list)  # Scope and Reference_point (not modelled)

    @property
    def trial(self) -> str:
        return self.doc_id.split("_")[0]

    @property
    def kind(self) -> str:
        return "exclusion" if self.doc_id.endswith("_exc") else "inclusion"


def read_ann(text: str, ann: str, doc_id: str = "") -> ChiaDoc:
    """Parse one BRAT ``.ann`` against its text; malformed lines are skipped, never guessed."""
    doc = ChiaDoc(doc_id, text)
    boxes: dict[str, tuple[str, int, int]] = {}
    neg_args: list[str] = []
    for line in ann.splitlines():
        parts = line.split("\t")
        if line.startswith("T") and len(parts) >= 2:
            head = parts[1].split(" ", 1)
            if len(head) != 2:
                continue
            etype, frags = head
            try:
                bounds = [tuple(int(x) for x in f.split()) for f in frags.split(";")]
                start, end = min(b[0] for b in bounds), max(b[1] for b in bounds)
            except ValueError:
                continue
            if not (0 <= start < end <= len(text)):
                continue
            if len(parts) >= 3 and not text[bounds[0][0]:bounds[0][1]].startswith(parts[2][:3]):
                continue  # offsets do not point at the annotated words: skip, never guess
            boxes[parts[0]] = (etype, start, end)
            if etype in TYPE_PRIORITY:
                doc.spans.append(Span(etype, start, end, text[start:end]))
            elif etype in STRUCTURE_TYPES:
                doc.structure.append(Span(etype, start, end, text[start:end]))
        elif line.startswith("R") and len(parts) >= 2 and parts[1].startswith("Has_negation"):
            args = dict(a.split(":", 1) for a in parts[1].split()[1:] if ":" in a)
            if "Arg1" in args:
                neg_args.append(args["Arg1"])
    for ref in neg_args:
        if ref not in boxes:
            continue
        _, s, e = boxes[ref]
        doc.negated.update(
            (sp.start, sp.end)
            for sp in doc.spans
            if s <= sp.start and sp.end <= e and sp.type not in ("Negation", "Value")
        )
    doc.spans = sorted(set(doc.spans), key=lambda sp: (sp.start, sp.end, sp.type))
    return doc


def load_chia(folder: Path, limit: int | None = None) -> list[ChiaDoc]:
    """Every ``NCT*_{inc,exc}`` pair in ``folder`` (sorted by name; ``limit`` trials at most)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"Chia folder {folder} does not exist", hint="point to ../shared/data/trials/chia")
    names = sorted(p.stem for p in folder.glob("NCT*_*.txt"))
    if limit is not None:
        keep = sorted({n.split("_")[0] for n in names})[:limit]
        names = [n for n in names if n.split("_")[0] in keep]
    docs = []
    for name in names:
        ann_path = folder / f"{name}.ann"
        if not ann_path.exists():
            continue
        # bytes, not read_text: BRAT offsets count the raw characters, '\r\n' included
        text = (folder / f"{name}.txt").read_bytes().decode("utf-8")
        docs.append(read_ann(text, ann_path.read_text(encoding="utf-8"), name))
    if not docs:
        raise InputError(f"no NCT*_inc/exc .txt/.ann pairs in {folder}")
    return docs


def split_trials(
    docs: list[ChiaDoc], test_fraction: float = 0.2, seed: int = 13
) -> tuple[list[ChiaDoc], list[ChiaDoc]]:
    """Split by trial (never one trial's inclusion in train and its exclusion in test)."""
    trials = _shuffled_trials(docs, seed)
    return _hold_out(docs, set(trials[: round(len(trials) * test_fraction)]))


def _shuffled_trials(docs: list[ChiaDoc], seed: int) -> list[str]:
    trials = sorted({d.trial for d in docs})
    random.Random(seed).shuffle(trials)
    return trials


def _hold_out(docs: list[ChiaDoc], test: set[str]) -> tuple[list[ChiaDoc], list[ChiaDoc]]:
    return [d for d in docs if d.trial not in test], [d for d in docs if d.trial in test]


def trial_fold(
    docs: list[ChiaDoc], fold: int = 0, n_folds: int = 5, seed: int = 13
) -> tuple[list[ChiaDoc], list[ChiaDoc]]:
    """Fold ``fold`` of a k-fold split by trial: (the other folds' documents, this fold's).

    Why: one 20% split of 800 trials is a noisy estimate (a fold's overlap F1 moves by a point or
    more with which trials it holds), so the shipped model's held-out figure is the mean over the
    folds. The trials are shuffled exactly as :func:`split_trials` shuffles them, so fold 0 of 5 is
    the 80/20 split every earlier figure and the CRF model used.

    Raises:
        InputError: when ``fold`` is not in ``0..n_folds-1``.
    """
    if not 0 <= fold < n_folds:
        raise InputError(f"fold {fold} is not in 0..{n_folds - 1}", where="fold")
    trials = _shuffled_trials(docs, seed)  # the same order as split_trials: fold 0 of 5 is its split
    size = len(trials) / n_folds
    return _hold_out(docs, set(trials[round(fold * size) : round((fold + 1) * size)]))


def flatten(spans: list[Span]) -> list[Span]:
    """Non-overlapping subset: longest first, then earlier start, then type priority."""
    chosen: list[Span] = []
    for sp in sorted(spans, key=lambda s: (-(s.end - s.start), s.start, TYPE_PRIORITY.get(s.type, 99))):
        if all(sp.end <= c.start or sp.start >= c.end for c in chosen):
            chosen.append(sp)
    return sorted(chosen, key=lambda s: s.start)


def bio_sequences(doc: ChiaDoc) -> list[tuple[list[Token], list[str]]]:
    """One (tokens, BIO labels) pair per non-blank line, from the flattened gold.

    A token is inside an entity when it overlaps it (gold boundaries inside a token, rare with this
    tokeniser, round outwards).
    """
    return _bio_lines(doc.text, flatten(doc.spans))


def second_layer(doc: ChiaDoc) -> list[tuple[list[Token], list[str]]]:
    """What :func:`bio_sequences` cannot show, as a second BIO layer on the same lines.

    The modelled-type entities that flattening dropped (nested inside or overlapping a longer one,
    e.g. the ``Qualifier`` "ovarian" inside a ``Condition``), then ``Reference_point``, then
    ``Scope`` where they do not overlap what is already there. Why: an auxiliary head trained on
    these makes the shared encoder learn Chia's nesting and grouping without changing the flat
    output the matcher uses.
    """
    kept = set(flatten(doc.spans))
    layer = flatten([sp for sp in doc.spans if sp not in kept])
    for etype in ("Reference_point", "Scope"):
        for sp in sorted((s for s in doc.structure if s.type == etype), key=lambda s: s.start - s.end):
            if all(sp.end <= c.start or sp.start >= c.end for c in layer):
                layer.append(sp)
    return _bio_lines(doc.text, sorted(layer, key=lambda s: s.start))


def _bio_lines(text: str, flat: list[Span]) -> list[tuple[list[Token], list[str]]]:
    out = []
    for offset, line in split_lines(text):
        toks = tokenize(line, offset)
        labels = ["O"] * len(toks)
        for sp in flat:
            inside = [i for i, t in enumerate(toks) if t.start < sp.end and t.end > sp.start]
            for k, i in enumerate(inside):
                labels[i] = ("B-" if k == 0 else "I-") + sp.type
        out.append((toks, labels))
    return out


def corpus_fingerprint(docs: list[ChiaDoc]) -> dict[str, object]:
    """sha256 over the documents' ids, texts and spans: which data a model was trained on."""
    digest = hashlib.sha256()
    for d in docs:
        digest.update(d.doc_id.encode())
        digest.update(d.text.encode())
        for sp in d.spans:
            digest.update(f"{sp.type}:{sp.start}:{sp.end};".encode())
    return {
        "sha256": digest.hexdigest(),
        "rows": len(docs),
        "trials": len({d.trial for d in docs}),
        "source": "Chia corpus (Kury et al. 2020, CC BY 4.0), ../shared/data/trials/chia",
    }
