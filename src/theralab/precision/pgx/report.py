"""From a VCF (and outside calls) to a per-sample PGx result, written as JSON, TSV and HTML.

Why one module: the CLI, the API and the web page must show the same thing, so the whole pipeline
(read -> match -> phenotype -> recommend) and its renderings live here, and surfaces stay thin.
The HTML is self-contained (no CDN, no script): one section per actionable gene-drug pair in plain
language, then every gene with the evidence behind its call.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from theralab.errors import InputError
from theralab.precision.pgx.caller import Diplotype, GeneCall, match_gene
from theralab.precision.pgx.definitions import VCF_GENES, load_definitions, manifest
from theralab.precision.pgx.phenotype import Phenotype, phenotype_call
from theralab.precision.pgx.recommend import Recommendation, medication_review, recommendations_for
from theralab.precision.pgx.vcf import detect_build, read_genotype_table, read_vcf

#: suffixes read as rsID + genotype tables (arrays, targeted panels) rather than VCF
TABLE_SUFFIXES = (".txt", ".tsv", ".csv")


@dataclass
class PgxResult:
    """Everything known about one sample: gene calls, phenotypes, applicable recommendations."""

    sample: str
    calls: dict[str, GeneCall]
    phenotypes: dict[str, Phenotype]
    recommendations: list[Recommendation]
    medications: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def actionable(self) -> list[Recommendation]:
        """Recommendations that change drug choice or dose."""
        return [r for r in self.recommendations if r.actionable]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the knowledge-base versions used."""
        return {
            "sample": self.sample,
            "knowledge_base": {
                k: {"version": v["version"], "licence": v["licence"]} for k, v in manifest()["files"].items()
            },
            "genes": {
                g: {"call": c.to_dict(), "phenotype": self.phenotypes[g].to_dict()} for g, c in self.calls.items()
            },
            "recommendations": [r.to_dict() for r in self.recommendations],
            "medications": self.medications,
            "warnings": self.warnings,
        }


def phenotypes_from_report(body: dict[str, Any]) -> dict[str, Phenotype]:
    """Rebuild the phenotypes from a saved ``<sample>.json`` report (for later drug questions)."""
    from theralab.precision.pgx.phenotype import AlleleFunction

    try:
        out = {}
        for gene, g in body["genes"].items():
            p = dict(g["phenotype"])
            p["functions"] = [AlleleFunction(**f) for f in p.get("functions", [])]
            out[gene] = Phenotype(**p)
        return out
    except (KeyError, TypeError) as exc:
        raise InputError(
            f"not a theralab PGx report: {exc}",
            where="report JSON",
            hint="pass a <sample>.json written by 'theralab pgx call'",
        ) from exc


def read_outside_calls(path: str | Path) -> dict[str, str]:
    """Read outside calls (PharmCAT's format): ``GENE<TAB>DIPLOTYPE`` per line, ``#`` comments.

    Raises:
        InputError: a line without a gene and a diplotype, or a gene given twice.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("outside-calls file not found", where=str(path))
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.rstrip("\n").split("\t")
        if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
            raise InputError(
                "expected GENE<TAB>DIPLOTYPE", where=f"{path}:{n}", hint="e.g. 'CYP2D6\t*1/*4' (tab-separated)"
            )
        gene = cols[0].strip()
        if gene in out:
            raise InputError(f"{gene} is given twice", where=f"{path}:{n}")
        out[gene] = cols[1].strip()
    return out


def outside_call(gene: str, diplotype: str) -> GeneCall:
    """Wrap a diplotype from another caller (CYP2D6 from Aldy/StellarPGx, HLA typing) as a GeneCall."""
    parts = diplotype.split("/")
    d = Diplotype(parts[0], parts[1] if len(parts) > 1 else None, 0, kind="outside")
    return GeneCall(gene=gene, status="outside call", diplotypes=[d], source="outside call")


def build_result(
    sample: str, calls: dict[str, GeneCall], outside: dict[str, str] | None = None, medications: list[str] | None = None
) -> PgxResult:
    """Phenotype the calls, merge outside calls, look recommendations up."""
    calls = dict(calls)
    for gene, dip in (outside or {}).items():
        if gene in calls and calls[gene].called:
            prev = calls[gene].diplotypes[0].name
            oc = outside_call(gene, dip)
            oc.warnings.append(f"outside call replaces the VCF call {prev}")
            calls[gene] = oc
        else:
            calls[gene] = outside_call(gene, dip)
    phenos = {g: phenotype_call(c) for g, c in calls.items()}
    recs = recommendations_for(phenos)
    meds = medication_review(medications, phenos) if medications else []
    return PgxResult(sample, calls, phenos, recs, meds)


def call_vcf(
    path: str | Path,
    sample: str | None = None,
    outside_calls: str | Path | dict[str, str] | None = None,
    all_samples: bool = False,
    medications: list[str] | None = None,
    genes: tuple[str, ...] = VCF_GENES,
    build: str = "auto",
) -> list[PgxResult]:
    """The whole pipeline for a VCF (or an rsID + genotype table): one :class:`PgxResult` per sample.

    Args:
        build: ``auto`` (GRCh37 when the VCF header says so, else GRCh38), ``GRCh38`` or ``GRCh37``.
    """
    is_table = Path(path).suffix.lower() in TABLE_SUFFIXES
    notes: list[str] = []
    if build == "auto":
        build = "GRCh38"
        if not is_table and Path(path).is_file() and detect_build(path) == "GRCh37":
            build = "GRCh37"
            notes.append(
                "the VCF header declares GRCh37: called on GRCh37 coordinates of the same allele "
                "definitions (PyPGx's per-variant positions); positions without a GRCh37 coordinate "
                "are listed as missing"
            )
    defs = load_definitions(build=build)
    chosen = {g: defs[g] for g in genes}
    outside = read_outside_calls(outside_calls) if isinstance(outside_calls, (str, Path)) else outside_calls
    out = []
    if is_table:
        samples = [read_genotype_table(path, chosen, sample=sample)]
    else:
        samples = read_vcf(path, chosen, sample=sample, all_samples=all_samples)
    for sg in samples:
        calls = {g: match_gene(chosen[g], sg.genes[g], warnings=sg.warnings[g]) for g in chosen}
        res = build_result(sg.sample, calls, outside, medications)
        res.warnings = notes + list(sg.file_warnings)
        out.append(res)
    return out


TSV_COLUMNS = (
    "sample",
    "gene",
    "status",
    "diplotype",
    "tied_diplotypes",
    "phenotype",
    "activity_score",
    "lookup_key",
    "missing_positions",
    "source",
)


def to_tsv(results: list[PgxResult]) -> str:
    """One row per sample and gene: the per-sample summary table (multi-sample VCFs included)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(TSV_COLUMNS)
    for r in results:
        for g, c in r.calls.items():
            p = r.phenotypes[g]
            w.writerow(
                [
                    r.sample,
                    g,
                    c.status,
                    c.diplotypes[0].name if c.diplotypes else "",
                    ";".join(d.name for d in c.diplotypes[1:]),
                    p.phenotype,
                    p.activity_score or "",
                    p.lookup_key,
                    len(c.missing_positions),
                    c.source,
                ]
            )
    return buf.getvalue()


_TEMPLATE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pharmacogenomic report: {{ r.sample }}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}
section{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0;page-break-after:always}
.act{border-left:6px solid #c0392b}.small{color:#555;font-size:.9em}table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}pre{white-space:pre-wrap}</style>
</head><body>
<h1>Pharmacogenomic report</h1>
<p>Sample <b>{{ r.sample }}</b>. Genotypes matched against CPIC/PharmVar allele definitions
(GRCh38, version {{ kb }}); recommendations from CPIC guidelines (CC0).</p>
{% for w in r.warnings %}<p class="small">Warning: {{ w }}</p>{% endfor %}
<h2>Actionable gene-drug pairs ({{ r.actionable|length }})</h2>
{% if not r.actionable %}<p>No recommendation for this patient changes a drug choice or dose.</p>{% endif %}
{% for rec in r.actionable %}
<section class="act"><h3>{{ rec.drug }}: {{ rec.genes|join(" + ") }}</h3>
<p>{% for g in rec.genes %}{% set p = r.phenotypes.get(g) %}{% if p and p.diplotype %}This patient's {{ g }}
result is <b>{{ p.diplotype }}</b>, which means <b>{{ p.phenotype }}</b>.{% else %}There is no {{ g }} result
for this patient (not tested or not called).{% endif %}
{% endfor %}</p>
<p><b>What to do:</b> {{ rec.text }}</p>
{% for i in rec.implications %}<p class="small">Why: {{ i }}</p>{% endfor %}
<p class="small">Strength: {{ rec.strength }}{% if rec.population %}; population: {{ rec.population }}{% endif %}.
Source: <a href="{{ rec.guideline_url }}">{{ rec.guideline }}</a>
{%- if rec.pmids %} (PMID {{ rec.pmids|join(", ") }}){% endif %}.</p>
</section>{% endfor %}
{% if r.medications %}<h2>Current medications</h2><table><tr><th>Drug</th><th>Guideline</th><th>Action needed</th></tr>
{% for m in r.medications %}<tr><td>{{ m.drug }}</td><td>{{ "yes" if m.guideline else "no CPIC guideline" }}</td>
<td>{{ "yes" if m.actionable else "no" }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Genes</h2><table><tr><th>Gene</th><th>Diplotype</th><th>Phenotype</th><th>Activity score</th><th>Evidence</th></tr>
{% for g, c in r.calls.items() %}{% set p = r.phenotypes[g] %}
<tr><td>{{ g }}</td><td>{{ c.diplotypes|map(attribute="name")|join(" or ") or c.status }}</td><td>{{ p.phenotype }}
{% if p.note %}<div class="small">{{ p.note }}</div>{% endif %}</td><td>{{ p.activity_score or "" }}</td>
<td><pre class="small">{{ c.explain() }}</pre></td></tr>{% endfor %}</table>
<p class="small">Genes not called are "No Result", never assumed normal. Unphased data can leave several
diplotypes tied; they are all listed. This report supports, and does not replace, clinical judgement.</p>
</body></html>
""")


def to_html(result: PgxResult) -> str:
    """Self-contained HTML report for one sample."""
    kb = manifest()["files"]["alleles.json.gz"]["version"]
    return _TEMPLATE.render(r=result, kb=kb)


def write_report(results: list[PgxResult], out_dir: str | Path) -> list[Path]:
    """Write ``<sample>.json``, ``.html`` and ``.pdf`` per sample and one ``summary.tsv``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for r in results:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in r.sample) or "sample"
        pj, ph = out / f"{safe}.json", out / f"{safe}.html"
        pj.write_text(json.dumps(r.to_dict(), indent=2))
        ph.write_text(to_html(r))
        from theralab.precision.pgx.report_pdf import write_pdf

        paths += [pj, ph, write_pdf(r, out / f"{safe}.pdf")]
    pt = out / "summary.tsv"
    pt.write_text(to_tsv(results))
    return [*paths, pt]
