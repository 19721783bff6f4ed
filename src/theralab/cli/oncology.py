"""``theralab oncology``: match a tumour's somatic variants to therapies (AMP/ASCO/CAP tiers)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from theralab.cli._common import App, console

app = App(help="Precision oncology: tumour variants (MAF or annotated VCF) -> therapies from a versioned "
                       "knowledge base, with evidence levels, tiers and resistance markers.", no_args_is_help=True)


@app.command()
def match(
    variants: str = typer.Argument(..., help="somatic variants: a MAF (.maf/.tsv) or a VEP/SnpEff annotated VCF"),
    tumour: str = typer.Option(None, "--tumour", "--oncotree", help="the tumour's OncoTree code, e.g. MEL, NSCLC"),
    kb: str = typer.Option(None, help="knowledge base JSON (default: theralab's small cited example)"),
    signature: list[str] = typer.Option([], help="tumour-level markers present, e.g. MSI-High, TMB-High (repeat)"),
    min_level: str = typer.Option("gene", help="least specific match: exact | codon | class | gene"),
    out: str = typer.Option(None, help="write the report as JSON here"),
) -> None:
    """Report matched therapies by tier, resistance markers and cited trials.

    Example: theralab oncology match tumour.maf --tumour MEL --kb my_kb.json --out report.json
    """
    from theralab.precision.oncology import load_kb, match_variants, read_annotated_vcf, read_maf, therapy_report

    base = load_kb(kb)
    if variants.endswith((".vcf", ".vcf.gz", ".bcf")):
        found, bad = read_annotated_vcf(variants)
    else:
        found, bad = read_maf(variants)
    matches = match_variants(found, base, oncotree_code=tumour, min_level=min_level, signatures=signature)
    report = therapy_report(matches)
    report.update({"knowledge_base": {"name": base.name, "version": base.version, "license": base.license},
                   "tumour": tumour, "variants": len(found), "bad_rows": bad})
    table = Table("tier", "variant", "therapy", "effect", "level", "match", "disease", "source")
    for section in ("tier_I", "tier_II", "resistance"):
        for m in report[section]:
            table.add_row(m["tier"], f"{m['gene']} {m['protein_change']}", m["therapy"], m["effect"],
                          m["evidence_level"], m["match_level"], m["disease"] or "any", f"PMID {m['pmid']}"
                          if m["pmid"] else (m["url"] or "")[:40])
    console.print(f"{len(found)} variants read ({len(bad)} bad rows); knowledge base {base.name} {base.version}")
    console.print(table)
    for row in bad[:10]:
        console.print(f"[yellow]skipped {row['where']}:[/yellow] {row['why']}")
    console.print(f"[dim]{report['caveat']}[/dim]")
    if out:
        with open(out, "w") as handle:
            json.dump(report, handle, indent=2)
        console.print(f"report written to {out}")


@app.command("kb-check")
def kb_check(path: str = typer.Argument(..., help="knowledge base JSON to validate")) -> None:
    """Validate a knowledge base file against the format and summarise it."""
    from collections import Counter

    from theralab.precision.oncology import load_kb

    base = load_kb(path)
    levels = Counter(a.evidence_level for a in base.assertions)
    console.print(f"{base.name} {base.version} ({base.license}): {len(base.assertions)} assertions, "
                  f"{len(base.genes())} genes, levels {dict(sorted(levels.items()))}")
