"""Tumour variant -> therapy: normalisation, MAF/VCF reading, the KB format, and the matcher vs MOAlmanac."""

from __future__ import annotations

import io
import json

import pytest

from theralab.errors import InputError
from theralab.precision.oncology import (
    from_moalmanac,
    load_kb,
    make_variant,
    match_variants,
    normalise_protein_change,
    read_annotated_vcf,
    read_maf,
    therapy_report,
)
from theralab.precision.oncology.variants import AA3


@pytest.mark.parametrize(("text", "expected"), [
    ("V600E", "p.V600E"), ("p.Val600Glu", "p.V600E"), ("p.(Val600Glu)", "p.V600E"),
    ("ENSP00000288602.6:p.Val600Glu", "p.V600E"), ("p.Arg213Ter", "p.R213*"), ("R213X", "p.R213*"),
    ("p.Leu747SerfsTer12", "p.L747fs"), ("p.E746_A750del", "p.E746_A750del"), ("", ""), (".", ""),
])
def test_normalise_protein_change(text, expected):
    assert normalise_protein_change(text) == expected


MAF = """#version 2.4
Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\tVariant_Classification\tHGVSp_Short\tTumor_Sample_Barcode\tt_alt_count\tt_depth
BRAF\t7\t140453136\tA\tT\tMissense_Mutation\tp.V600E\tT1\t30\t100
TP53\t17\t7578406\tC\tT\tNonsense_Mutation\tp.R175*\tT1\t10\t50
\t1\t5\tA\tT\tMissense_Mutation\tp.X1Y\tT1\t1\t2
"""


def test_read_maf_keeps_good_rows_and_lists_bad():
    variants, bad = read_maf(io.StringIO(MAF))
    assert [v.label for v in variants] == ["BRAF p.V600E", "TP53 p.R175*"]
    assert variants[0].variant_class == "missense" and variants[1].variant_class == "nonsense"
    assert variants[0].vaf == pytest.approx(0.3) and variants[0].pos == 140453136
    assert bad == [{"where": "row 4", "why": "a variant needs a gene symbol"}]
    with pytest.raises(InputError, match="Hugo_Symbol"):
        read_maf(io.StringIO("gene\tchange\nBRAF\tV600E\n"))


def test_read_vep_annotated_vcf(tmp_path):
    vcf = tmp_path / "t.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n"
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
        'Format: Allele|Consequence|SYMBOL|HGVSp">\n'
        "##contig=<ID=7>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "7\t140453136\t.\tA\tT\t.\tPASS\tCSQ=T|upstream_gene_variant|BRAF|,T|missense_variant|BRAF|"
        "ENSP00000288602.6:p.Val600Glu\n"
        "7\t100\t.\tA\tG\t.\tPASS\t.\n")
    variants, bad = read_annotated_vcf(vcf)
    assert variants[0].label == "BRAF p.V600E" and variants[0].variant_class == "missense"
    assert len(bad) == 1 and "no gene annotation" in bad[0]["why"]


def test_example_kb_tiers_codon_match_and_resistance():
    kb = load_kb()
    assert kb.license == "CC0-1.0" and all(a.pmid for a in kb.assertions)
    on = match_variants([make_variant("BRAF", "p.Val600Glu")], kb, oncotree_code="MEL")
    assert [(m.assertion.therapy, m.tier, m.match_level) for m in on] == [("Vemurafenib", "I", "exact")]
    off = match_variants([make_variant("BRAF", "V600E")], kb, oncotree_code="COADREAD")
    assert off[0].tier == "II" and not off[0].disease_match  # level A in another tumour type -> tier II
    crc = match_variants([make_variant("KRAS", "p.G12D")], kb, oncotree_code="COADREAD")
    assert [(m.assertion.therapy, m.match_level, m.assertion.effect) for m in crc] == [("Cetuximab", "codon",
                                                                                        "resistant")]
    report = therapy_report(match_variants([make_variant("EGFR", "L858R"), make_variant("EGFR", "T790M")], kb,
                                           oncotree_code="NSCLC", signatures=["MSI-High"]))
    assert [m["therapy"] for m in report["tier_I"]] == ["Osimertinib", "Pembrolizumab"]
    assert [m["therapy"] for m in report["resistance"]] == ["Gefitinib"]


def test_kb_format_errors():
    with pytest.raises(InputError, match="assertions.0.evidence_level"):
        load_kb({"name": "x", "version": "1", "assertions": [
            {"id": "1", "biomarker": {"type": "somatic_variant", "gene": "BRAF"}, "therapy": "t",
             "effect": "sensitive", "evidence_level": "Z"}]})
    with pytest.raises(InputError, match="not supported"):
        load_kb({"name": "x", "version": "1", "format_version": "9", "assertions": []})


@pytest.fixture(scope="module")
def moalmanac(shared_data):
    records = json.loads((shared_data / "precision" / "moalmanac" / "molecular-oncology-almanac.json").read_text())
    return records, from_moalmanac(records)


def _three_letter(pc: str) -> str:
    one_to_three = {v: k for k, v in AA3.items()}
    ref, rest = pc[2], pc[3:]
    pos = "".join(ch for ch in rest if ch.isdigit())
    alt = rest[len(pos):]
    return f"p.{one_to_three[ref]}{pos}{one_to_three.get(alt, alt)}"


def test_matcher_recovers_every_moalmanac_point_mutation(moalmanac):
    """Every somatic point-mutation assertion of MOAlmanac is found again from a variant written in
    three-letter HGVS, in its own disease, with the tier its evidence level implies (GPL data: test only)."""
    records, kb = moalmanac
    assert len(kb.assertions) == 694
    points = [a for a in kb.assertions if a.biomarker.type == "somatic_variant"
              and len(a.biomarker.protein_change) > 3 and a.biomarker.protein_change[-1].isalpha()
              and a.biomarker.protein_change[2].isalpha() and a.biomarker.protein_change[3:-1].isdigit()]
    assert len(points) > 200
    for a in points:
        variant = make_variant(a.biomarker.gene, _three_letter(a.biomarker.protein_change))
        found = {m.assertion.id: m for m in match_variants([variant], kb, oncotree_code=a.disease or None)}
        assert a.id in found, a
        assert found[a.id].match_level == "exact"
        assert found[a.id].tier == ("I" if a.evidence_level in "AB" else "II")
    melanoma = match_variants([make_variant("BRAF", "p.V600E")], kb, oncotree_code="MEL", min_level="exact")
    tier1 = {m.assertion.therapy for m in melanoma if m.tier == "I" and m.assertion.effect == "sensitive"}
    assert {"Vemurafenib", "Dabrafenib"} <= {t.split(" + ")[0] for t in tier1}


def test_read_snpeff_annotated_vcf(tmp_path):
    vcf = tmp_path / "s.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n"
        "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | Annotation | "
        "Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | "
        "HGVS.p'\">\n##contig=<ID=12>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "12\t25398285\t.\tC\tA\t.\tPASS\tANN=A|missense_variant|MODERATE|KRAS|ENSG00000133703|transcript|"
        "ENST00000256078|protein_coding|2/6|c.34G>T|p.Gly12Cys\n")
    variants, bad = read_annotated_vcf(vcf)
    assert not bad and variants[0].label == "KRAS p.G12C" and variants[0].pos == 25398285
    matches = match_variants(variants, load_kb(), oncotree_code="NSCLC")
    # on-label sotorasib, and the colorectal KRAS-codon-12 cetuximab resistance shown off-label as tier II
    assert [(m.assertion.therapy, m.tier) for m in matches] == [("Sotorasib", "I"), ("Cetuximab", "II")]
