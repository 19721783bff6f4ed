"""``theralab literature``: extract entities and relations from papers, build and query the knowledge graph."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from theralab.cli._common import App, console, err_console, progress_bar

app = App(
    help="Literature mining: read papers (PubMed XML, PubTator, BioC JSON, text), tag chemicals, diseases and "
    "genes, extract relations with their evidence sentences, and query the knowledge graph.\n\n"
    "Typical use:\n\n"
    "  theralab literature extract pubmed_export.xml -o out.jsonl   # read, tag, relate; write JSONL\n\n"
    "  theralab literature load pubmed_export.xml                   # the same, stored in the database\n\n"
    "  theralab literature query targets 'breast cancer'            # genes linked to a disease\n\n"
    "  theralab literature query drugs EGFR                         # chemicals linked to a gene\n\n"
    "  theralab literature query connect cisplatin 'hearing loss'   # direct edges and 2-step paths\n\n"
    "  theralab literature export -o graph.graphml                  # CSV or GraphML for Cytoscape/Gephi",
    no_args_is_help=True,
)
query_app = App(help="Ask the knowledge graph (after 'theralab literature load').", no_args_is_help=True)
app.add_typer(query_app, name="query")

FORMAT_HELP = "input format: auto (from name and content), pubmed-xml, pubtator, bioc-json or text"


def _read_and_process(inp: Path, fmt: str, retag: bool, relations: bool = True) -> tuple[list, list]:
    from theralab.literature.pipeline import process
    from theralab.literature.readers import read_path

    docs, errors = read_path(inp, None if fmt == "auto" else fmt)
    with progress_bar() as bar:
        task = bar.add_task("extracting", total=len(docs))
        done, failed = process(docs, retag=retag, relations=relations,
                               progress=lambda n: bar.advance(task, n))
    errors = errors + failed
    for e in errors[:20]:
        err_console.print(f"[yellow]skipped[/] {escape(e.where)}: {escape(e.reason)}")
    if len(errors) > 20:
        err_console.print(f"... and {len(errors) - 20} more skipped documents")
    return done, errors


@app.command("extract")
def extract(
    inp: Path = typer.Argument(..., metavar="INPUT", help="a file or a folder of files (PubMed XML, PubTator, BioC "
                               "JSON, .txt); each document gets its own error if it cannot be read"),
    out: Path = typer.Option(..., "-o", "--out", help="output file: .jsonl (one document per line) or .json (BioC)"),
    fmt: str = typer.Option("auto", "--format", help=FORMAT_HELP),
    out_format: str = typer.Option("auto", "--to", help="jsonl, bioc, or auto (from the -o suffix)"),
    retag: bool = typer.Option(False, "--retag", help="tag again even when the input carries annotations"),
    no_relations: bool = typer.Option(False, "--no-relations", help="entities only"),
) -> None:
    """Read INPUT, tag entities, extract relations, write them (with offsets and evidence sentences) to OUT.

    Example: theralab literature extract ../shared/data/literature/bc5cdr/CDR_DevelopmentSet.PubTator.txt -o dev.jsonl
    """
    from theralab.errors import InputError
    from theralab.literature.pipeline import to_bioc, to_jsonl

    docs, errors = _read_and_process(inp, fmt, retag, not no_relations)
    kind = out_format if out_format != "auto" else ("bioc" if out.suffix.lower() in (".json", ".bioc") else "jsonl")
    if kind not in ("jsonl", "bioc"):
        raise InputError(f"unknown output format {out_format!r}", where="--to", hint="jsonl or bioc")
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "bioc":
        out.write_text(json.dumps(to_bioc(docs), ensure_ascii=False))
    else:
        with out.open("w", encoding="utf-8") as fh:
            fh.writelines(to_jsonl(docs))
    n_m = sum(len(d.mentions) for d in docs)
    n_r = sum(len(d.relations) for d in docs)
    console.print(f"{len(docs)} documents, {n_m} mentions, {n_r} relations -> {out} ({kind}); "
                  f"{len(errors)} skipped")


@app.command("load")
def load(
    inp: Path | None = typer.Argument(None, metavar="INPUT", help="a file or folder (as for 'extract')"),
    fmt: str = typer.Option("auto", "--format", help=FORMAT_HELP),
    retag: bool = typer.Option(False, "--retag", help="tag again even when the input carries annotations"),
    sample: bool = typer.Option(False, "--sample", help="load the eight made-up sample abstracts shipped with "
                                "theralab (to try the queries and the page)"),
) -> None:
    """Extract INPUT and store documents, entities, relations and evidence in the database (re-loading replaces)."""
    from theralab.errors import InputError
    from theralab.literature.tables import load_documents
    from theralab.runtime.db import session_scope

    if sample:
        from theralab.literature.sample import load_sample

        with session_scope() as session:
            counts = load_sample(session, user="cli")
        console.print(", ".join(f"{v} {k}" for k, v in counts.items()) + " (sample)")
        return
    if inp is None:
        raise InputError("give INPUT (a file or folder) or --sample", where="INPUT")
    docs, errors = _read_and_process(inp, fmt, retag)
    with session_scope() as session:
        counts = load_documents(session, docs, user="cli")
    console.print(", ".join(f"{v} {k}" for k, v in counts.items()) + f"; {len(errors)} skipped")


def _neighbours(entity: str, etype: str | None, limit: int, as_json: bool) -> None:
    from theralab.literature.graph import neighbours, resolve
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        ent = resolve(session, entity)
        rows = neighbours(session, ent.id, etype=etype, limit=limit)
    if as_json:
        console.print_json(json.dumps([vars(r) for r in rows]))
        return
    t = Table(title=f"{etype + 's' if etype else 'entities'} linked to {ent.name} ({ent.id}), ranked by documents")
    for col in ("rank", "name", "id", "type", "documents", "years", "relations", "score"):
        t.add_column(col, justify="right" if col in ("rank", "documents", "score") else "left", overflow="fold")
    for i, r in enumerate(rows, 1):
        years = f"{r.first_year}-{r.last_year}" if r.first_year else "-"
        t.add_row(str(i), escape(r.name), r.id, r.type, str(r.documents), years, ", ".join(r.relation_types),
                  f"{r.score:.2f}")
    console.print(t)


@query_app.command("targets")
def targets(disease: str = typer.Argument(..., help="disease name or id, e.g. 'asthma' or MESH:D001249"),
            limit: int = typer.Option(20, help="rows"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Genes linked to DISEASE, ranked by the number of documents (then confidence)."""
    _neighbours(disease, "Gene", limit, as_json)


@query_app.command("drugs")
def drugs(entity: str = typer.Argument(..., help="gene or disease name or id, e.g. EGFR"),
          limit: int = typer.Option(20, help="rows"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Chemicals linked to a gene (or disease), ranked by the number of documents."""
    _neighbours(entity, "Chemical", limit, as_json)


@query_app.command("neighbours")
def neighbours_cmd(entity: str = typer.Argument(..., help="any entity name or id"),
                   type: str | None = typer.Option(None, "--type", help="Chemical, Disease or Gene"),
                   limit: int = typer.Option(20, help="rows"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Every entity linked to ENTITY, ranked by the number of documents."""
    _neighbours(entity, type, limit, as_json)


@query_app.command("connect")
def connect(a: str = typer.Argument(..., help="first entity"), b: str = typer.Argument(..., help="second entity"),
            evidence: bool = typer.Option(False, "--evidence", help="print the sentences of the direct relations"),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """What connects A and B: direct relations and paths through one intermediate entity."""
    from theralab.literature import graph
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        res = graph.connect(session, a, b)
        sentences = graph.evidence(session, a, b, limit=20) if evidence else []
    if as_json:
        console.print_json(json.dumps(dict(res, evidence=[vars(s) for s in sentences])))
        return
    console.print(f"[bold]{escape(res['a']['name'])}[/] ({res['a']['id']}) and "
                  f"[bold]{escape(res['b']['name'])}[/] ({res['b']['id']})")
    for e in res["direct"]:
        console.print(f"  direct {e['type']}: {escape(e['subject_name'])} -> {escape(e['object_name'])}, "
                      f"{e['documents']} documents")
    if not res["direct"]:
        console.print("  no direct relation")
    for p in res["paths"][:15]:
        console.print(f"  via {escape(p['via']['name'])} ({p['via']['type']}): {p['a_documents']} + "
                      f"{p['b_documents']} documents")
    for s in sentences:
        console.print(f"[dim]{s.doc_id} ({s.year or '?'})[/] {escape(s.sentence)}")


@app.command("export")
def export(out: Path = typer.Option(..., "-o", "--out", help="graph.csv or graph.graphml"),
           around: str | None = typer.Option(None, help="only the edges of this entity"),
           min_documents: int = typer.Option(1, help="only edges read in at least this many documents")) -> None:
    """Export the knowledge graph's edges as CSV or GraphML (by the suffix of OUT)."""
    from theralab.errors import InputError
    from theralab.literature.graph import export_csv, export_graphml
    from theralab.runtime.db import session_scope

    if out.suffix.lower() not in (".csv", ".graphml"):
        raise InputError(f"unknown export suffix {out.suffix!r}", where="-o", hint=".csv or .graphml")
    with session_scope() as session:
        fn = export_csv if out.suffix.lower() == ".csv" else export_graphml
        out.write_text(fn(session, around=around, min_documents=min_documents))
    console.print(f"wrote {out}")


@app.command("stats")
def stats() -> None:
    """How many documents, entities and relations the knowledge graph holds."""
    from theralab.literature.graph import stats as graph_stats
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        console.print_json(json.dumps(graph_stats(session)))
