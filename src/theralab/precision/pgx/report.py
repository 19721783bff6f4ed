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
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from theralab.errors import InputError
from theralab.precision.pgx.caller import Diplotype, GeneCall, match_gene
from theralab.precision.pgx.definitions import VCF_GENES, load_definitions, manifest
from theralab.precision.pgx.phenotype import INDETERMINATE, Phenotype, phenotype_call
from theralab.precision.pgx.recommend import medication_review, recommendations_for
from theralab.precision.pgx.result import PgxResult
from theralab.precision.pgx.vcf import detect_build, read_genotype_table, read_vcf
from theralab.precision.pgx.vcf_checks import CapturedStderr, build_from_variants, check_before_cyvcf2, check_compressed

#: suffixes read as rsID + genotype tables (arrays, targeted panels) rather than VCF
TABLE_SUFFIXES = (".txt", ".tsv", ".csv")


def load_report(path: str | Path) -> dict[str, Any]:
    """A ``<sample>.json`` written by :func:`write_report` (``theralab pgx call``), read back.

    Raises:
        InputError: when the file is missing or is not JSON.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("report file not found", where=str(path))
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"report is not JSON: {exc}", where=str(path)) from exc


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


@dataclass(frozen=True)
class OutsideCall:
    """One line of a PharmCAT outside-call file: a diplotype, or a phenotype and/or activity score.

    PharmCAT's format is ``GENE<TAB>DIPLOTYPE<TAB>PHENOTYPE<TAB>ACTIVITY_SCORE``; the diplotype may be
    empty when the caller reports only a phenotype (``G6PD<TAB><TAB>Deficient``) or an activity score.
    """

    diplotype: str | None = None
    phenotype: str | None = None
    activity_score: str | None = None


def read_outside_calls(path: str | Path) -> dict[str, OutsideCall]:
    """Read outside calls in PharmCAT's format, ``#`` comments and blank lines skipped.

    Raises:
        InputError: a line with no gene, or with neither diplotype, phenotype nor activity score, or a
            gene given twice (the line number is in ``where``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("outside-calls file not found", where=str(path))
    out: dict[str, OutsideCall] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = [c.strip() for c in line.rstrip("\n").split("\t")] + ["", "", ""]
        gene, dip, pheno, score = cols[:4]
        if not gene or not (dip or pheno or score):
            raise InputError(
                "expected GENE<TAB>DIPLOTYPE[<TAB>PHENOTYPE<TAB>ACTIVITY_SCORE] with a diplotype, a phenotype "
                "or an activity score",
                where=f"{path}:{n}",
                hint="e.g. 'CYP2D6\t*1/*4' or 'G6PD\t\tDeficient' (tab-separated)",
            )
        if gene in out:
            raise InputError(f"{gene} is given twice", where=f"{path}:{n}")
        out[gene] = OutsideCall(dip or None, pheno or None, score or None)
    return out


def outside_call(gene: str, diplotype: str | OutsideCall) -> GeneCall:
    """Wrap a diplotype from another caller (CYP2D6 from Aldy/StellarPGx, HLA typing) as a GeneCall."""
    oc = diplotype if isinstance(diplotype, OutsideCall) else OutsideCall(diplotype)
    if oc.diplotype is None:
        what = " / ".join(x for x in (oc.phenotype, oc.activity_score and f"activity score {oc.activity_score}") if x)
        return GeneCall(
            gene=gene, status="outside call", source="outside call", warnings=[f"outside call gives {what} only"]
        )
    parts = oc.diplotype.split("/")
    d = Diplotype(parts[0], parts[1] if len(parts) > 1 else None, 0, kind="outside")
    return GeneCall(gene=gene, status="outside call", diplotypes=[d], source="outside call")


def _outside_phenotype(gene: str, oc: OutsideCall) -> Phenotype:
    """Phenotype from an outside call that gives no diplotype (PharmCAT accepts these).

    Genes CPIC keys by activity score (CYP2D6, CYP2C9, DPYD) use the score when given; otherwise the
    phenotype is the lookup key, as PharmCAT does.
    """
    from theralab.precision.pgx.definitions import load_phenotype_tables

    tab = load_phenotype_tables().get(gene.replace("-", "_"), {})
    rows = list(tab.get("diplotypes", {}).values())
    score_keyed = any(r[1] is not None and r[2] == r[1] for r in rows)
    pheno = oc.phenotype or INDETERMINATE
    if oc.activity_score is not None and score_keyed:
        score = f"{float(oc.activity_score):.2f}".rstrip("0")
        score = score + "0" if score.endswith(".") else score
        if oc.phenotype is None:
            by_score = {r[1]: r[0] for r in rows}
            pheno = by_score.get(score, INDETERMINATE)
        return Phenotype(gene, None, pheno, score, score, note="outside call (activity score)")
    if score_keyed:
        scores = {r[1] for r in rows if r[0] == oc.phenotype}
        key = scores.pop() if len(scores) == 1 else INDETERMINATE
        return Phenotype(gene, None, pheno, None if key == INDETERMINATE else key, key,
                         note="outside call (phenotype only)"
                         + ("" if key != INDETERMINATE else f": {gene} recommendations need an activity score"))
    return Phenotype(gene, None, pheno, oc.activity_score, pheno, note="outside call (phenotype only)")


def build_result(
    sample: str,
    calls: dict[str, GeneCall],
    outside: dict[str, str] | dict[str, OutsideCall] | None = None,
    medications: list[str] | None = None,
) -> PgxResult:
    """Phenotype the calls, merge outside calls, look recommendations up."""
    calls = dict(calls)
    given: dict[str, OutsideCall] = {
        g: v if isinstance(v, OutsideCall) else OutsideCall(v) for g, v in (outside or {}).items()
    }
    for gene, oc in given.items():
        new = outside_call(gene, oc)
        if gene in calls and calls[gene].called:
            new.warnings.append(f"outside call replaces the VCF call {calls[gene].diplotypes[0].name}")
        calls[gene] = new
    phenos = {
        g: _outside_phenotype(g, given[g]) if g in given and given[g].diplotype is None else phenotype_call(c)
        for g, c in calls.items()
    }
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
    with warnings.catch_warnings(record=True) as caught, CapturedStderr() as c_stderr:
        warnings.simplefilter("always")
        out = _call_vcf(path, sample, outside_calls, all_samples, medications, genes, build)
    # library warnings (numpy, cyvcf2, pydantic) belong in the report a user reads, not on the terminal
    seen = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in seen:
            seen.append(text)
    seen += [f"htslib: {line}" for line in c_stderr.lines]
    for r in out:
        r.warnings.extend(seen)
    return out


def _call_vcf(
    path: str | Path,
    sample: str | None,
    outside_calls: str | Path | dict[str, str] | dict[str, OutsideCall] | None,
    all_samples: bool,
    medications: list[str] | None,
    genes: tuple[str, ...],
    build: str,
) -> list[PgxResult]:
    is_table = Path(path).suffix.lower() in TABLE_SUFFIXES
    notes: list[str] = []
    if not is_table and Path(path).is_file():
        check_compressed(path)
        check_before_cyvcf2(path)  # before anything hands the records to cyvcf2 (it segfaults on some)
    if build == "auto":
        build = "GRCh38"
        declared = detect_build(path) if not is_table and Path(path).is_file() else None
        if declared == "GRCh37":
            build = "GRCh37"
            notes.append(
                "the VCF header declares GRCh37: called on GRCh37 coordinates of the same allele "
                "definitions (PyPGx's per-variant positions); positions without a GRCh37 coordinate "
                "are listed as missing"
            )
        elif declared is None and not is_table and Path(path).is_file():
            guess, h38, h37 = build_from_variants(path, load_definitions(), load_definitions(build="GRCh37"))
            if guess is None:
                raise InputError(
                    "the genome build cannot be determined: the header names none and no record sits on a "
                    "defined pharmacogene position of GRCh38 or GRCh37",
                    where=str(path),
                    hint="pass --build GRCh38 or --build GRCh37, or add a ##reference/##contig header line; "
                    "check that the VCF covers the pharmacogenes",
                )
            build = guess
            notes.append(
                f"the VCF header names no genome build; {guess} was detected from the variants "
                f"({max(h38, h37)} records on {guess} pharmacogene positions against {min(h38, h37)} on the other "
                "build). Pass --build to override."
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
    "not_excluded",
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
                    ";".join(c.not_excluded),
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
(version {{ kb }}); recommendations from CPIC guidelines (CC0).</p>
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
<td>{{ m.status }}{% for a in m.advice %}<div class="small">{{ a }}</div>{% endfor %}</td></tr>{% endfor %}
</table>{% endif %}
<h2>Genes</h2><table><tr><th>Gene</th><th>Diplotype</th><th>Phenotype</th><th>Activity score</th><th>Evidence</th></tr>
{% for g, c in r.calls.items() %}{% set p = r.phenotypes[g] %}
<tr><td>{{ g }}</td><td>{{ c.diplotypes|map(attribute="name")|join(" or ") or c.status }}
{% if c.not_excluded %}<div class="small"><b>{{ c.not_excluded_text() }}</b></div>{% endif %}</td><td>{{ p.phenotype }}
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
