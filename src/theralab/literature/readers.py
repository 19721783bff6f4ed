"""Read papers into :class:`~theralab.literature.documents.Document`: PubMed XML, PubTator, BioC JSON, text.

Why one module: a researcher's PubMed export, an annotated corpus and a folder of PDF-extracted text
must all arrive as the same document model with the same offsets, so the tagger, relation
classifier and graph never care where a paper came from. Every reader returns ``(documents,
errors)``: a malformed record, an empty abstract, a non-English or oversized text or an
undecodable file gives a :class:`DocumentError` naming where and why, and the batch keeps the good
documents. XML is parsed with ``defusedxml`` (no external entities, no entity expansion bombs).

Offsets: for PubMed and PubTator records ``text`` is ``title + " " + abstract``; labelled abstract
sections (BACKGROUND, METHODS...) become :class:`Section` spans inside the abstract, their labels
kept out of the text so PubTator offsets of the same PMID stay valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from theralab.literature.documents import Document, DocumentError, Mention, Section
from theralab.literature.sentences import sentences

MAX_CHARS = 1_000_000  # a longer document is refused (a whole book pasted as one abstract)
FORMATS = ("pubmed-xml", "pubtator", "bioc-json", "text")
Result = tuple[list[Document], list[DocumentError]]

_ENGLISH = {"the", "of", "and", "in", "to", "with", "a", "is", "was", "were", "for", "by", "that", "on",
            "as", "are", "from", "patients", "this", "we", "be", "at", "or", "an", "which", "not"}
_FOREIGN = {"der", "die", "und", "des", "le", "les", "et", "la", "el", "los", "del", "que", "por", "di", "il",
            "che", "een", "het", "och", "para", "com", "não", "une", "dans", "mit", "bei", "ist"}
def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """``[start, end)`` per sentence of ``text[start:end]`` (the one splitter, :mod:`theralab.literature.sentences`)."""
    end = len(text) if end is None else end
    return [(start + s, start + e) for s, e in sentences(text[start:end])]


def finish(doc: Document) -> Document:
    """Fill ``doc.sentences`` section by section (a sentence never spans the title and abstract)."""
    spans: list[tuple[int, int]] = []
    covered = sorted({(s.start, s.end) for s in doc.sections if s.name in ("title", "abstract", "body")}) or \
        [(0, len(doc.text))]
    for s, e in covered:
        spans.extend(split_sentences(doc.text, s, e))
    doc.sentences = spans
    doc.mentions.sort(key=lambda m: (m.start, m.end))
    return doc


def check_document(doc: Document, where: str) -> DocumentError | None:
    """Why ``doc`` cannot be processed (empty, too long, not English), or ``None`` when it is fine."""
    if not doc.text.strip():
        return DocumentError(where, "empty document: no title and no abstract")
    if not doc.abstract.strip() and not doc.title.strip():
        return DocumentError(where, "empty abstract")
    if len(doc.text) > MAX_CHARS:
        return DocumentError(where, f"document is {len(doc.text):,} characters, more than the {MAX_CHARS:,} allowed")
    if not is_english(doc.text):
        return DocumentError(where, "text does not look like English (the taggers are trained on English abstracts)")
    return None


def is_english(text: str) -> bool:
    """Whether ``text`` reads as English: English function words outnumber other languages' and letters are Latin."""
    words = re.findall(r"[^\W\d_]+", text[:5000].lower())
    if len(words) < 20:
        return True  # too short to judge (a title, a one-line abstract)
    latin = sum(ch.isascii() for ch in "".join(words)) / max(1, len("".join(words)))
    en = sum(w in _ENGLISH for w in words)
    foreign = sum(w in _FOREIGN for w in words)
    return latin > 0.8 and en >= max(2, foreign)


def decode(data: bytes, where: str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with BOM, else latin-1 (never fails silently on NUL)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if b"\x00" in data[:1000]:
            raise ValueError(f"{where}: binary or UTF-16 text without a byte-order mark") from None
        return data.decode("latin-1")


def _keep(docs: Iterable[tuple[Document, str]], errors: list[DocumentError]) -> list[Document]:
    out, seen = [], set()
    for doc, where in docs:
        bad = check_document(doc, where)
        if bad is None and doc.id in seen:
            bad = DocumentError(where, f"duplicate document id {doc.id!r} (the first one is kept)")
        if bad:
            errors.append(bad)
            continue
        seen.add(doc.id)
        out.append(finish(doc))
    return out


# --- PubMed XML -------------------------------------------------------------------------------------

def _text(el: object) -> str:
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip() if el is not None else ""  # type: ignore[attr-defined]


def read_pubmed_xml(data: str | bytes, source: str = "pubmed.xml") -> Result:
    """Documents of an efetch ``PubmedArticleSet`` (or one ``PubmedArticle`` / ``MedlineCitation``).

    Keeps PMID, title, abstract (labelled sections as :class:`Section` named by their label), year,
    journal and MeSH headings (``meta["mesh"]``).
    """
    errors: list[DocumentError] = []
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        return [], [DocumentError(source, f"refused XML: {type(exc).__name__} (entities or DTDs are not allowed)")]
    except SafeET.ParseError as exc:
        return [], [DocumentError(source, f"malformed XML: {exc}")]
    if root.tag in ("PubmedArticle", "MedlineCitation"):
        articles = [root]
    else:
        articles = root.findall(".//PubmedArticle") or root.findall(".//MedlineCitation")
    if not articles:
        return [], [DocumentError(source, f"no PubmedArticle element (root is <{root.tag}>)")]
    parsed = []
    for k, art in enumerate(articles, 1):
        cit = art if art.tag == "MedlineCitation" else art.find("MedlineCitation")
        where = f"{source}: article {k}"
        if cit is None:
            errors.append(DocumentError(where, "PubmedArticle without MedlineCitation"))
            continue
        pmid = _text(cit.find("PMID"))
        if not pmid:
            errors.append(DocumentError(where, "article without PMID"))
            continue
        where = f"{source}: PMID {pmid}"
        title = _text(cit.find(".//Article/ArticleTitle"))
        parts = [(p.get("Label") or p.get("NlmCategory") or "abstract", _text(p))
                 for p in cit.findall(".//Article/Abstract/AbstractText")]
        parts = [(label, t) for label, t in parts if t]
        abstract = " ".join(t for _, t in parts)
        doc = Document.from_title_abstract(pmid, title, abstract)
        pos = len(title) + 1
        for label, t in parts:
            if len(parts) > 1:
                doc.sections.append(Section(label.lower(), pos, pos + len(t)))
            pos += len(t) + 1
        year = cit.findtext(".//Article/Journal/JournalIssue/PubDate/Year") or \
            (cit.findtext(".//Article/Journal/JournalIssue/PubDate/MedlineDate") or "")[:4] or \
            cit.findtext(".//DateCompleted/Year")
        doc.year = int(year) if year and year.isdigit() else None
        descriptors = [h.find("DescriptorName") for h in art.findall(".//MeshHeadingList/MeshHeading")]
        doc.meta = {"journal": _text(cit.find(".//Article/Journal/Title")), "source": "pubmed-xml",
                    "mesh": [{"ui": d.get("UI", ""), "name": _text(d)} for d in descriptors if d is not None]}
        if not abstract:
            errors.append(DocumentError(where, "empty abstract"))
            continue
        parsed.append((doc, where))
    return _keep(parsed, errors), errors


# --- PubTator ---------------------------------------------------------------------------------------

def read_pubtator_text(data: str, source: str = "input.pubtator") -> Result:
    """Documents of a PubTator file with their mentions (``source="gold"``) and CID relations in ``meta``.

    Parsing is :func:`theralab.nlp.pubtator.read_pubtator`'s (one reader of the format); a mention
    whose offsets do not match its text is dropped with an error, the document kept.
    """
    import tempfile

    from theralab.errors import InputError
    from theralab.nlp.pubtator import read_pubtator

    errors: list[DocumentError] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.pubtator"
        path.write_text(data, encoding="utf-8")
        try:
            raw = read_pubtator(path)
        except InputError as exc:
            return [], [DocumentError(f"{source}: {exc.where or ''}".rstrip(": "), exc.message)]
    parsed = []
    for r in raw:
        where = f"{source}: PMID {r.pmid}"
        doc = Document.from_title_abstract(r.pmid, r.title, r.abstract, meta={"source": "pubtator"})
        for m in r.mentions:
            if doc.text[m.start:m.end] != m.text:
                errors.append(DocumentError(where, f"mention {m.text!r} at {m.start}-{m.end} does not match the text"))
                continue
            ident = None if m.concept in ("", "-1") else m.concept
            doc.mentions.append(Mention(m.start, m.end, m.text, m.type, ident, 1.0, False, "gold"))
        doc.meta["relations"] = [list(rel) for rel in r.relations]
        parsed.append((doc, where))
    return _keep(parsed, errors), errors


# --- BioC JSON --------------------------------------------------------------------------------------

def read_bioc_json(data: str | bytes, source: str = "input.json") -> Result:
    """Documents of a BioC JSON collection (``{"documents": [...]}``) or a list of BioC documents.

    Passages are joined with one space in order; each becomes a section named by its ``type`` infon
    (``title``, ``abstract``, ``paragraph``...). Annotations with ``locations`` become mentions when
    their offsets land inside the joined text.
    """
    errors: list[DocumentError] = []
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return [], [DocumentError(source, f"not JSON: {exc}")]
    items = (raw.get("documents") or raw.get("PubTator3")) if isinstance(raw, dict) else raw  # BioC / PubTator3 API
    if not isinstance(items, list):
        return [], [DocumentError(source, "BioC JSON needs a 'documents' list")]
    parsed = []
    for k, item in enumerate(items, 1):
        where = f"{source}: document {k}"
        if not isinstance(item, dict) or not isinstance(item.get("passages"), list):
            errors.append(DocumentError(where, "not a BioC document (no 'passages' list)"))
            continue
        did = str(item.get("id") or f"doc{k}")
        where = f"{source}: {did}"
        text, sections, mentions, title = "", [], [], ""
        for p in item["passages"]:
            if not isinstance(p, dict):
                continue
            ptext = str(p.get("text") or "")
            kind = str((p.get("infons") or {}).get("type") or "paragraph").lower()
            if text:
                text += " "
            base_offset = int(p.get("offset", len(text)) or 0)
            start = len(text)
            text += ptext
            sections.append(Section("title" if kind in ("title", "front") else kind, start, len(text)))
            if kind in ("title", "front") and not title:
                title = ptext
            for ann in p.get("annotations") or []:
                infons = ann.get("infons") or {}
                for loc in ann.get("locations") or []:
                    s = start + int(loc.get("offset", 0)) - base_offset
                    e = s + int(loc.get("length", 0))
                    if text[s:e] != ann.get("text"):
                        errors.append(DocumentError(where, f"annotation {ann.get('text')!r} at {s} does not match"))
                        continue
                    ident = infons.get("identifier") or infons.get("MESH") or infons.get("NCBI Gene")
                    mentions.append(Mention(s, e, text[s:e], str(infons.get("type", "Chemical")),
                                            str(ident) if ident else None, 1.0, False, "gold"))
        abstract = text[len(title) + 1:] if title else text
        doc = Document(id=did, title=title, abstract=abstract, text=text, sections=sections, mentions=mentions,
                       meta={"source": "bioc-json"})
        year = (item.get("infons") or {}).get("year")
        doc.year = int(year) if str(year or "").isdigit() else None
        parsed.append((doc, where))
    return _keep(parsed, errors), errors


def read_text(data: str, doc_id: str, source: str | None = None) -> Result:
    """One document from plain or PDF-extracted text: the first non-empty line is the title.

    PDF extraction leaves hyphenated line breaks and hard-wrapped lines; they are joined here
    (``"hepato-\\ntoxicity"`` -> ``"hepatotoxicity"``), paragraphs (blank lines) kept as sections.
    """
    errors: list[DocumentError] = []
    text = data.replace("\r\n", "\n").replace("\x0c", "\n\n")
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    paragraphs = [re.sub(r"\s*\n\s*", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    paragraphs = [re.sub(r"[ \t]+", " ", p) for p in paragraphs if p]
    if paragraphs and "\n" not in data.strip() and len(paragraphs) == 1:
        title, body = "", paragraphs
    else:
        first = paragraphs[0] if paragraphs else ""
        head, _, rest = first.partition(". ") if len(first) > 300 else (first, "", "")
        title, body = (head, ([rest] if rest else []) + paragraphs[1:])
    body_text = " ".join(body)
    doc = Document.from_title_abstract(doc_id, title, body_text, meta={"source": "text"}) if title else \
        Document(id=doc_id, abstract=body_text, text=body_text, sections=[Section("abstract", 0, len(body_text))],
                 meta={"source": "text"})
    return _keep([(doc, source or doc_id)], errors), errors


def detect_format(name: str, head: str) -> str:
    """The reader for a file, from its name and first characters."""
    low = name.lower()
    stripped = head.lstrip()
    if low.endswith(".xml") or stripped.startswith("<"):
        return "pubmed-xml"
    if low.endswith((".json", ".bioc")) or stripped.startswith(("{", "[")):
        return "bioc-json"
    if low.endswith((".pubtator", ".pubtator.txt")) or re.match(r"^\d+\|[ta]\|", stripped):
        return "pubtator"
    return "text"


def read_bytes(data: bytes, name: str, fmt: str | None = None) -> Result:
    """Read one uploaded or local file's bytes with the reader its format needs (``fmt`` or detected)."""
    if len(data) > 50 * MAX_CHARS:
        return [], [DocumentError(name, f"file is {len(data):,} bytes; split it (at most {50 * MAX_CHARS:,})")]
    try:
        text = decode(data, name)
    except (ValueError, UnicodeDecodeError) as exc:
        return [], [DocumentError(name, f"cannot decode: {exc}")]
    fmt = fmt or detect_format(name, text[:200])
    if fmt not in FORMATS:
        return [], [DocumentError(name, f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")]
    if fmt == "pubmed-xml":
        body = re.sub(r"^<\?xml[^>]*\?>", "", text.lstrip("\ufeff").lstrip())
        return read_pubmed_xml(body, name)
    if fmt == "pubtator":
        return read_pubtator_text(text, name)
    if fmt == "bioc-json":
        return read_bioc_json(text, name)
    stem = Path(name).name.rsplit(".", 1)[0] or "document"
    return read_text(text, stem, name)


def read_path(path: Path, fmt: str | None = None) -> Result:
    """Read a file, or every file of a folder (sorted), into one batch (command line only: plain paths)."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if not path.exists():
        return [], [DocumentError(str(path), "no such file or folder")]
    docs: list[Document] = []
    errors: list[DocumentError] = []
    seen: set[str] = set()
    for f in files:
        d, e = read_bytes(f.read_bytes(), str(f), fmt)
        errors.extend(e)
        for doc in d:
            if doc.id in seen:
                errors.append(DocumentError(str(f), f"duplicate document id {doc.id!r} (the first one is kept)"))
                continue
            seen.add(doc.id)
            docs.append(doc)
    return docs, errors
