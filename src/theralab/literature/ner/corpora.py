"""The training corpora as :class:`Document` lists: BC5CDR (Chemical, Disease) and ChemProt (Gene).

BC5CDR (Li et al., Database 2016) is read with the project's PubTator reader
(:mod:`theralab.nlp.pubtator`). ChemProt, as the SciBERT release keeps it, is one line per
chemical-protein pair: the sentence with the pair's first argument in ``<< >>`` and the second in
``[[ ]]`` (in text order, types not marked). Gene mentions are recovered per sentence: the pairs of a
sentence form a bipartite graph (a chemical pairs only with genes), so each connected group of
mentions splits in two sides; the side that looks more like genes (:func:`gene_score`: enzyme and
receptor words, gene-symbol shapes; against the BC5CDR chemical names) is the gene side. The result
is partial: a gene that is in no annotated pair is unlabelled (the card says so).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from theralab.errors import InputError
from theralab.literature.documents import Document, Mention
from theralab.nlp.pubtator import read_pubtator

_GENE_WORDS = re.compile(
    r"(ase|ases|receptor|receptors|kinase|channel|transporter|factor|protein|proteins|enzyme|cyclin|"
    r"interleukin|hormone|globulin|antigen|subunit|isoform|isozyme|isoenzyme)\b|\b(CYP|IL|TNF|COX|NF|HER|EGFR|MMP)",
    re.IGNORECASE,
)
_SYMBOL = re.compile(r"^[A-Z][A-Za-z0-9]*\d[A-Za-z0-9]*(-\d+)?$|^[A-Z]{2,6}\d*[a-z]?$")


def bc5cdr_documents(path: Path) -> list[Document]:
    """Every abstract of a BC5CDR PubTator file with its gold mentions (``MESH:`` identifiers)."""
    out = []
    for rec in read_pubtator(Path(path)):
        doc = Document.from_title_abstract(rec.pmid, rec.title, rec.abstract)
        for m in sorted(rec.mentions, key=lambda m: (m.start, m.end)):
            ident = None if m.concept in ("-1", "") else "|".join(f"MESH:{c}" for c in m.concept.split("|"))
            doc.mentions.append(Mention(m.start, m.end, m.text, m.type, ident, 1.0, False, "gold"))
        out.append(doc)
    return out


def gene_score(text: str, chemicals: frozenset[str]) -> float:
    """How gene/protein-like a ChemProt argument looks (positive) versus chemical-like (negative)."""
    score = 0.0
    if _GENE_WORDS.search(text):
        score += 1.0
    if _SYMBOL.match(text):
        score += 0.5
    if text.lower() in chemicals:
        score -= 2.0
    if re.search(r"(ine|ol|ide|ate|one|in|acid|ium)$", text.lower()) and not _GENE_WORDS.search(text):
        score -= 0.5
    return score


def chemprot_documents(path: Path, chemicals: frozenset[str] = frozenset()) -> list[Document]:
    """One document per ChemProt sentence with its recovered Gene mentions (see the module docstring).

    Args:
        path: a ChemProt ``.jsonl`` file (``text`` with ``<< >>`` / ``[[ ]]`` markers).
        chemicals: lower-cased known chemical names (BC5CDR training mentions) to orient each group.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ChemProt file {path} does not exist")
    pairs: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = defaultdict(list)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            marked = json.loads(line)["text"]
        except (ValueError, KeyError, TypeError):
            raise InputError("not a ChemProt JSON line with a 'text' field", where=f"{path.name}:{number}") from None
        plain, spans = _unmark(marked)
        if len(spans) == 2:
            pairs[plain].append((spans[0], spans[1]))
    out = []
    for k, (plain, links) in enumerate(pairs.items()):
        doc = Document(id=f"{path.stem}-{k}", text=plain, abstract=plain)
        for start, end in _gene_side(plain, links, chemicals):
            doc.mentions.append(Mention(start, end, plain[start:end], "Gene", None, 1.0, False, "gold"))
        doc.mentions.sort(key=lambda m: (m.start, m.end))
        out.append(doc)
    return out


def _unmark(marked: str) -> tuple[str, list[tuple[int, int]]]:
    plain, spans, open_at, i = [], [], 0, 0
    length = 0
    while i < len(marked):
        tok = marked[i : i + 3]
        if tok in ("<< ", "[[ "):
            open_at, i = length, i + 3
            continue
        if tok in (" >>", " ]]"):
            spans.append((open_at, length))
            i += 3
            continue
        plain.append(marked[i])
        length += 1
        i += 1
    return "".join(plain), sorted(spans)


def _gene_side(text: str, links: list[tuple[tuple[int, int], tuple[int, int]]],
               chemicals: frozenset[str]) -> set[tuple[int, int]]:
    graph: dict[tuple[int, int], set[tuple[int, int]]] = defaultdict(set)
    for a, b in links:
        graph[a].add(b)
        graph[b].add(a)
    side: dict[tuple[int, int], int] = {}
    genes: set[tuple[int, int]] = set()
    for root in graph:
        if root in side:
            continue
        side[root], stack, group = 0, [root], [root]
        while stack:
            node = stack.pop()
            for nxt in graph[node]:
                if nxt not in side:
                    side[nxt] = 1 - side[node]
                    stack.append(nxt)
                    group.append(nxt)
        score = [0.0, 0.0]
        for node in group:
            score[side[node]] += gene_score(text[node[0] : node[1]], chemicals)
        gene = 0 if score[0] > score[1] else 1
        genes.update(n for n in group if side[n] == gene)
    return genes
