"""Shipped allele definitions: content, provenance, and agreement with the upstream files."""

from __future__ import annotations

import gzip
import hashlib
import json

from theralab.precision.pgx import build_definitions
from theralab.precision.pgx.definitions import (
    DATA_DIR,
    VCF_GENES,
    allele_matches,
    get_gene,
    load_definitions,
    manifest,
)


def test_all_vcf_genes_present_with_one_full_reference() -> None:
    defs = load_definitions()
    assert set(VCF_GENES) <= set(defs)
    assert len(VCF_GENES) == 19
    for gene in VCF_GENES:
        d = defs[gene]
        refs = [a for a in d.alleles if a.reference]
        assert len(refs) == 1, gene
        assert set(refs[0].defined) == {p.index for p in d.positions}, gene
        assert d.build.startswith("GRCh38")


def test_known_core_variants() -> None:
    # CYP2C19*2: rs12769205 A>G, rs58973490 (R), rs4244285 G>A (c.681G>A), rs3758581 A>G
    c19 = get_gene("CYP2C19")
    star2 = c19.allele("*2").variant_cells(c19.positions)
    assert {c19.positions[i].pos: a for i, a in star2.items()} == {
        94775367: "G",
        94775507: "R",
        94781859: "A",
        94842866: "G",
    }
    # TPMT*3A carries both the *3B (rs1800460) and *3C (rs1142345) variants
    tpmt = get_gene("TPMT")
    cores = {n: set(tpmt.allele(n).variant_cells(tpmt.positions).items()) for n in ("*3A", "*3B", "*3C")}
    assert cores["*3A"] == cores["*3B"] | cores["*3C"]
    # UGT1A1*28 is (TA)8 written on the definition's CAT anchor
    ugt = get_gene("UGT1A1")
    p = next(p for p in ugt.positions if p.rsid == "rs3064744")
    assert (p.pos, p.ref) == (233760233, "CAT")
    assert ugt.allele("*28").defined[p.index] == "CATAT"


def test_iupac_wobble_matching() -> None:
    assert allele_matches("R", "A") and allele_matches("R", "G")
    assert not allele_matches("R", "C")
    assert not allele_matches("CAT", "C")


def test_manifest_hashes_and_licences() -> None:
    m = manifest()
    assert m["genome_build"] == "GRCh38"
    for name, info in m["files"].items():
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == info["sha256"], name
        assert info["licence"].split(" ")[0] in ("CC0-1.0", "MIT"), name
        assert info["source"]


def test_shipped_tables_rebuild_identically(shared_data, tmp_path) -> None:
    pc = shared_data / "precision" / "pharmcat"
    m = build_definitions.build(
        pc / "definition_alleles",
        pc / "phenotype_head",
        pc / "phenotype_v2_12" / "cpic",
        pc / "guidelines_v2_12",
        out_dir=tmp_path,
        pypgx_alleles=shared_data / "precision" / "pypgx_tables" / "allele-table.csv",
        pypgx_variants=shared_data / "precision" / "pypgx_tables" / "variant-table.csv",
    )
    assert {k: v["sha256"] for k, v in m["files"].items()} == {k: v["sha256"] for k, v in manifest()["files"].items()}


def test_definitions_equal_upstream_cells(shared_data) -> None:
    src = shared_data / "precision" / "pharmcat" / "definition_alleles"
    for gene in ("CYP2C9", "DPYD", "NUDT15"):
        up = json.loads((src / f"{gene}_translation.json").read_text())
        d = get_gene(gene)
        assert [p.pos for p in d.positions] == [v["position"] for v in up["variants"]]
        for a_up, a in zip(up["namedAlleles"], d.alleles, strict=True):
            assert a.name == a_up["name"]
            assert {i: x for i, x in enumerate(a_up["alleles"]) if x is not None} == a.defined


def test_phenotype_and_guideline_tables_load() -> None:
    with gzip.open(DATA_DIR / "phenotypes.json.gz", "rt") as fh:
        ph = json.load(fh)
    assert ph["CYP2C19"]["diplotypes"]["*2/*2"][0] == "Poor Metabolizer"
    assert ph["CYP2C9"]["alleles"]["*3"]["activity"] == "0.0"
