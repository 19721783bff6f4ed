"""Diplotype -> function, activity score, phenotype (CPIC tables and CPIC rules)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from theralab.precision.pgx.caller import Diplotype, GeneCall
from theralab.precision.pgx.phenotype import phenotype_call, phenotype_for


@pytest.mark.parametrize(
    ("gene", "diplotype", "phenotype", "score"),
    [
        ("CYP2C19", "*2/*17", "Intermediate Metabolizer", None),
        ("CYP2C19", "*17/*1", "Rapid Metabolizer", None),  # either order
        ("CYP2C19", "*17/*17", "Ultrarapid Metabolizer", None),
        ("CYP2C9", "*1/*3", "Intermediate Metabolizer", "1.0"),
        ("DPYD", "Reference/c.1905+1G>A (*2A)", "Intermediate Metabolizer", "1.0"),
        ("DPYD", "c.1905+1G>A (*2A)/c.1905+1G>A (*2A)", "Poor Metabolizer", "0.0"),
        ("CYP2D6", "*1/*4", "Intermediate Metabolizer", "1.0"),
        ("TPMT", "*1/*3A", "Intermediate Metabolizer", None),
        ("UGT1A1", "*28/*28", "Poor Metabolizer", None),
        ("CYP3A5", "*3/*3", "Poor Metabolizer", None),
        ("SLCO1B1", "*4/*45.002", "Possible Decreased Function", None),  # sub-allele -> *45
        ("G6PD", "B (reference)/A- 202A_376G", "Variable", None),
        ("G6PD", "Bari/Bari", "Deficient with CNSHA", None),
        ("G6PD", "A", "Normal", None),
        ("RYR1", "Reference/Reference", "Uncertain Susceptibility", None),
    ],
)
def test_cpic_phenotypes(gene: str, diplotype: str, phenotype: str, score: str | None) -> None:
    p = phenotype_for(gene, diplotype)
    assert (p.phenotype, p.activity_score) == (phenotype, score)


def test_activity_values_and_lookup_key() -> None:
    p = phenotype_for("CYP2C9", "*2/*3")
    assert [(f.allele, f.function, f.activity) for f in p.functions] == [
        ("*2", "Decreased function", "0.5"),
        ("*3", "No function", "0.0"),
    ]
    assert p.lookup_key == "0.5"


def test_uncalled_combination_and_ties() -> None:
    assert phenotype_for("CYP2C19", None).phenotype == "No Result"
    combo = phenotype_for("CYP2C19", "*38/[*2 + *17]")
    assert combo.phenotype == "Indeterminate" and "combination" in combo.note
    call = GeneCall("TPMT", "called", [Diplotype("*1", "*3A", 45), Diplotype("*1", "*1", 45)])
    p = phenotype_call(call)
    assert p.phenotype == "Intermediate Metabolizer" and "different phenotypes" in p.note
    assert phenotype_call(GeneCall("CYP2C9", "not called")).lookup_key == "No Result"


def test_pharmcat_example_reports(shared_data: Path) -> None:
    """PharmCAT's end-to-end examples: same diplotype and phenotype for every gene it reports."""
    from theralab.precision.pgx.report import call_vcf

    ex = shared_data / "precision" / "pharmcat" / "examples"
    compared = 0
    for vcf, rep in [
        ("pharmcat.example.vcf", "pharmcat.example.report.tsv"),
        ("pharmcat.example2.vcf", "pharmcat.example2.report.tsv"),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = call_vcf(ex / vcf, outside_calls=ex / "pharmcat.example.outsideCall.tsv")[0]
        for line in (ex / rep).read_text().splitlines()[2:]:
            gene, dip, pheno = line.split("\t")[:3]
            ours = r.calls[gene].diplotypes[0].name
            assert sorted(ours.split("/")) == sorted(dip.split("/")), gene
            if pheno.strip():
                assert r.phenotypes[gene].phenotype == pheno, gene
                compared += 1
    assert compared == 35  # genes with a PharmCAT phenotype in the two reports (CYP4F2, IFNL3 have none)


def test_dpyd_combination_uses_lowest_activity_per_haplotype() -> None:
    # CPIC DPYD: *2A (0.0) and c.2846A>T (0.5) on one strand -> that strand 0.0; with Reference (1.0) -> AS 1.0
    p = phenotype_for("DPYD", "Reference/[c.1905+1G>A (*2A) + c.2846A>T]")
    assert (p.phenotype, p.activity_score) == ("Intermediate Metabolizer", "1.0")
    p = phenotype_for("DPYD", "c.2846A>T/[c.1905+1G>A (*2A) + c.2846A>T]")
    assert (p.phenotype, p.activity_score) == ("Poor Metabolizer", "0.5")
    # an unnamed (partial) variant has no activity value: stays Indeterminate
    assert phenotype_for("DPYD", "Reference/[c.1905+1G>A (*2A) + g.1C>T]").phenotype == "Indeterminate"
