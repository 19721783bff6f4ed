"""``theralab pgx``: star-allele diplotypes, phenotypes and CPIC recommendations from a VCF.

The pipeline lives in :mod:`theralab.precision.pgx.report`; this module only parses options, prints
a table and writes the report files.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from theralab.cli._common import App, console

app = App(
    help="Pharmacogenomics: VCF -> star-allele diplotypes -> phenotypes -> CPIC recommendations.\n\n"
    "Example: theralab pgx call patient.vcf.gz --outside-calls cyp2d6.tsv -o report/",
    no_args_is_help=True,
)


@app.command("call")
def call(
    vcf: Path = typer.Argument(..., help="VCF or bgzipped VCF on GRCh38 (index beside it for speed)"),
    out: Path = typer.Option(..., "-o", "--out", help="report directory (JSON, HTML per sample, summary.tsv)"),
    sample: str = typer.Option(None, "--sample", help="sample ID (required for multi-sample VCFs)"),
    all_samples: bool = typer.Option(False, "--all-samples", help="call every sample in one pass"),
    outside_calls: Path = typer.Option(
        None,
        "--outside-calls",
        help="PharmCAT outside calls: GENE<TAB>DIPLOTYPE[<TAB>PHENOTYPE<TAB>ACTIVITY] (e.g. CYP2D6, G6PD)",
    ),
    medications: str = typer.Option(None, "--medications", help="comma-separated current medications to check"),
    build: str = typer.Option(
        "auto", "--build", help="auto (from the VCF header, else from the variants), GRCh38 or GRCh37"
    ),
) -> None:
    """Call diplotypes for the 19 VCF genes, phenotype them and write the report.

    VCF may also be an rsID + genotype table (.txt/.tsv/.csv, e.g. an array export).
    """
    from theralab.precision.pgx.report import call_vcf, write_report

    meds = [m for m in medications.split(",")] if medications else None
    if build not in ("auto", "GRCh38", "GRCh37"):
        from theralab.errors import InputError

        raise InputError(f"unknown build {build!r}", where="--build", hint="auto, GRCh38 or GRCh37")
    results = call_vcf(
        vcf, sample=sample, outside_calls=outside_calls, all_samples=all_samples, medications=meds, build=build
    )
    paths = write_report(results, out)
    for r in results:
        t = Table(title=f"{r.sample}: {len(r.actionable)} actionable recommendation(s)")
        for col in ("gene", "diplotype", "phenotype", "missing"):
            t.add_column(col)
        for g, c in r.calls.items():
            t.add_row(
                g,
                " or ".join(d.name for d in c.diplotypes) or c.status,
                r.phenotypes[g].phenotype,
                str(len(c.missing_positions)),
            )
        console.print(t)
        for g, c in r.calls.items():
            if c.not_excluded:
                console.print(f"[yellow]{g}:[/yellow] {c.not_excluded_text()}")
        for m in r.medications:
            colour = {"action needed": "red", "gene not determined": "yellow"}.get(m["status"], "green")
            console.print(f"{m['drug']}: [{colour}]{m['status']}[/{colour}]")
            for a in m["advice"]:
                console.print(f"  {a}")
        for w in r.warnings:
            console.print(f"[yellow]warning:[/yellow] {w}")
    console.print(f"wrote {len(paths)} files to {out}")


@app.command("drugs")
def drugs(gene: str = typer.Option(None, "--gene", help="only drugs whose guideline involves this gene")) -> None:
    """List the drugs with a shipped CPIC guideline and the genes each depends on."""
    from theralab.precision.pgx.recommend import all_drugs

    t = Table(title="CPIC guidelines")
    for col in ("drug", "genes", "guideline"):
        t.add_column(col)
    n = 0
    for d in all_drugs():
        if gene and gene not in d["genes"]:
            continue
        t.add_row(d["drug"], ", ".join(d["genes"]), d["url"] or "")
        n += 1
    console.print(t)
    console.print(f"{n} drugs")


@app.command("drug")
def drug(
    name: str = typer.Argument(..., help="drug name, e.g. clopidogrel"),
    report: Path = typer.Option(..., "--report", help="a <sample>.json written by 'theralab pgx call'"),
) -> None:
    """Drug-centred view: for this drug, this patient's genes, phenotypes and CPIC recommendations."""
    from theralab.precision.pgx.recommend import drug_view
    from theralab.precision.pgx.report import load_report, phenotypes_from_report

    body = load_report(report)
    view = drug_view(name, phenotypes_from_report(body))
    console.print(f"[bold]{name}[/bold] for {body.get('sample', '?')}: " + "; ".join(view["genes"]))
    colour = {"action needed": "red", "gene not determined": "yellow"}.get(view["status"], "green")
    console.print(f"[{colour}]{view['status']}[/{colour}]")
    for a in view["advice"]:
        console.print(f"- {a}")
    for r in view["recommendations"]:
        flag = "[red]ACTION[/red]" if r["actionable"] else view["status"]
        console.print(f"- {flag} ({r['strength']}; {r['population'] or 'all'}): {r['text'].splitlines()[0]}")
    console.print("Source: " + (view["recommendations"][0]["guideline_url"] if view["recommendations"] else "-"))


@app.command("warfarin")
def warfarin(
    report: Path = typer.Option(..., "--report", help="a <sample>.json written by 'theralab pgx call'"),
    age: float = typer.Option(..., "--age", help="years"),
    height: float = typer.Option(..., "--height", help="cm"),
    weight: float = typer.Option(..., "--weight", help="kg"),
    race: str = typer.Option("white", "--race", help="white, asian, black or mixed (IWPC race terms)"),
    african_ancestry: bool = typer.Option(False, "--african-ancestry", help="CPIC's African-ancestry branch"),
    amiodarone: bool = typer.Option(False, "--amiodarone", help="taking amiodarone"),
    inducer: bool = typer.Option(False, "--inducer", help="taking carbamazepine, phenytoin or rifampicin"),
) -> None:
    """Warfarin stable dose by CPIC 2017 (IWPC algorithm + CYP4F2/African-ancestry adjustments).

    Genotypes (VKORC1 -1639, CYP2C9, CYP4F2*3) come from the report; a gene without a result uses the
    algorithm's "unknown" term and is named in the cautions.
    Example: theralab pgx warfarin --report out/S1.json --age 65 --height 170 --weight 80
    """
    from theralab.precision.pgx.report import load_report
    from theralab.precision.pgx.warfarin_report import warfarin_from_report

    body = load_report(report)
    dose = warfarin_from_report(
        body, age=age, height_cm=height, weight_kg=weight, race=race, african_ancestry=african_ancestry,
        amiodarone=amiodarone, enzyme_inducer=inducer,
    )
    if dose.weekly_mg is None:
        console.print("[yellow]dose clinically[/yellow]")
    else:
        lo, hi = dose.weekly_range_mg or (dose.weekly_mg, dose.weekly_mg)
        console.print(f"[bold]warfarin {dose.weekly_mg:.1f} mg/week ({dose.daily_mg:.2f} mg/day)[/bold]"
                      + (f", range {lo:.1f}-{hi:.1f} mg/week" if hi - lo > 0.05 else ""))
    for s in dose.steps:
        console.print(f"- {s}")
    for c in dose.cautions:
        console.print(f"[yellow]caution:[/yellow] {c}")
