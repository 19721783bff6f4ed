"""Regenerate the small PGx VCF fixtures in this folder (project-made, no third-party data).

Genotypes are written at every defined CYP2C19 and TPMT position of the shipped GRCh38 definitions
(reference unless listed below), so the expected calls follow from the definitions alone:

* ``two_samples.vcf``: S1 = CYP2C19 *2/*17 (unphased), TPMT *3B|*3C (phased on opposite strands);
  S2 = CYP2C19 *2/*2, TPMT heterozygous at both *3A positions, unphased.
* ``two_samples.vcf.gz`` (+ ``.tbi``): the same, bgzipped and indexed (needs pysam to rebuild).
* ``halfcall.vcf``: S1's genotypes with a half-call ``0/.`` at CYP2C19 rs12248560 (the *17 position).
* ``grch37.vcf``: S1's genotypes on GRCh37 coordinates (the shipped GRCh37 position map), header
  contigs with GRCh37 lengths. ``unsorted.vcf``: two records swapped.
* ``sample.g.vcf``: a gVCF (reference blocks with END) for S1 = CYP2C19 *1/*17 ... written as *38/*17:
  reference blocks over the gene, variant records at rs12248560 (C>T) and rs3758581 (A>G), both 0/1.
* ``array.txt``: an rsID + genotype export (23andMe-like) with a strand-flipped CYP2C9 call and a no-call.

Run: ``.venv/bin/python tests/data/pgx/make_fixtures.py``.
"""

from __future__ import annotations

from pathlib import Path

from theralab.precision.pgx.definitions import get_gene, load_definitions

HERE = Path(__file__).resolve().parent
HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr6,length={chr6}>
##contig=<ID=chr10,length={chr10}>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{samples}
"""
GRCH38 = {"chr6": 170805979, "chr10": 133797422}
GRCH37 = {"chr6": 171115067, "chr10": 135534747}

# gene -> position -> per-sample GT (S1, S2); unlisted positions are 0/0
GTS = {
    "CYP2C19": {
        94761900: ("0/1", "0/0"),
        94775367: ("0/1", "1/1"),
        94775507: ("0/1", "1/1"),
        94781859: ("0/1", "1/1"),
        94842866: ("1/1", "1/1"),
    },
    "TPMT": {18138997: ("1|0", "0/1"), 18130687: ("0|1", "0/1")},
}


def records(gts: dict[str, dict[int, tuple[str, ...]]], n: int) -> list[tuple[str, int, str]]:
    rows = []
    for gene in ("TPMT", "CYP2C19"):
        d = get_gene(gene)
        for p in d.positions:
            g = gts[gene].get(p.pos, ("0/0",) * n)
            fmt = "GT:PS" if any("|" in x for x in g) else "GT"
            cells = [x + (":7" if fmt == "GT:PS" else "") for x in g]
            rows.append(
                (
                    p.chrom,
                    p.pos,
                    "\t".join(
                        [p.chrom, str(p.pos), p.rsid or ".", p.ref, ",".join(p.alts), ".", "PASS", ".", fmt, *cells]
                    ),
                )
            )
    return rows


def records37(gts: dict[str, dict[int, tuple[str, ...]]]) -> list[tuple[str, int, str]]:
    """S1's genotypes at the GRCh37 positions of the same variants (REF/ALT indices re-derived)."""
    d37 = load_definitions(build="GRCh37")
    rows = []
    for gene in ("TPMT", "CYP2C19"):
        gone = {u.removesuffix(" [GRCh38]") for u in d37[gene].unavailable}
        kept = [p for p in get_gene(gene).positions if p.label not in gone]  # same order as the GRCh37 set
        for p38, p in zip(kept, d37[gene].positions, strict=True):
            gt = gts[gene].get(p38.pos, ("0/0",))[0]
            sep = "|" if "|" in gt else "/"
            alleles38 = [p38.ref, *p38.alts]
            bases = [alleles38[int(x)] for x in gt.replace("|", "/").split("/")]
            order = [p.ref, *p.alts]
            gt37 = sep.join(str(order.index(b)) for b in bases)
            fmt, cell = ("GT:PS", gt37 + ":7") if sep == "|" else ("GT", gt37)
            rows.append(
                (
                    p.chrom,
                    p.pos,
                    "\t".join(
                        [p.chrom, str(p.pos), p.rsid or ".", p.ref, ",".join(p.alts), ".", "PASS", ".", fmt, cell]
                    ),
                )
            )
    return sorted(rows, key=lambda r: (r[0] != "chr6", r[1]))


def write(name: str, rows: list[tuple[str, int, str]], samples: list[str], contigs: dict[str, int]) -> Path:
    path = HERE / name
    text = HEADER.format(samples="\t".join(samples), **contigs) + "\n".join(r[2] for r in rows) + "\n"
    path.write_text(text)
    return path


def main() -> None:
    rows = records(GTS, 2)
    rows.sort(key=lambda r: (r[0] != "chr6", r[1]))
    p = write("two_samples.vcf", rows, ["S1", "S2"], GRCH38)
    one = {g: {k: (v[0],) for k, v in d.items()} for g, d in GTS.items()}
    half = {g: dict(d) for g, d in one.items()}
    half["CYP2C19"][94761900] = ("0/.",)
    r1 = sorted(records(half, 1), key=lambda r: (r[0] != "chr6", r[1]))
    write("halfcall.vcf", r1, ["S1"], GRCH38)
    write("grch37.vcf", records37(GTS), ["S1"], GRCH37)
    uns = sorted(records(one, 1), key=lambda r: (r[0] != "chr6", r[1]))
    uns[3], uns[4] = uns[4], uns[3]
    write("unsorted.vcf", uns, ["S1"], GRCH38)
    gvcf = [
        "chr10\t94761000\t.\tA\t<NON_REF>\t.\t.\tEND=94761899\tGT\t0/0",
        "chr10\t94761900\trs12248560\tC\tT,<NON_REF>\t.\tPASS\t.\tGT\t0/1",
        "chr10\t94761901\t.\tA\t<NON_REF>\t.\t.\tEND=94842865\tGT\t0/0",
        "chr10\t94842866\trs3758581\tA\tG,<NON_REF>\t.\tPASS\t.\tGT\t0/1",
        "chr10\t94842867\t.\tA\t<NON_REF>\t.\t.\tEND=94853000\tGT\t0/0",
    ]
    head = HEADER.format(samples="S1", **GRCH38).replace(
        "##FORMAT", '##INFO=<ID=END,Number=1,Type=Integer,Description="End of block">\n##FORMAT', 1
    )
    (HERE / "sample.g.vcf").write_text(head + "\n".join(gvcf) + "\n")
    (HERE / "array.txt").write_text(
        "# rsid\tchromosome\tposition\tgenotype\n"
        "rs4244285\t10\t94781859\tAG\n"  # CYP2C19*2 core, het
        "rs1142345\t6\t18130687\tTC\n"  # TPMT*3C position, het
        "rs1800460\t6\t18138997\tCT\n"  # TPMT*3B position, het
        "rs1057910\t10\t94981296\tTG\n"  # CYP2C9*3 (A>C) reported on the minus strand
        "rs9923231\t16\t31096368\t--\n"
    )  # VKORC1 no-call
    try:
        import pysam
    except ImportError:
        print("pysam not installed: two_samples.vcf.gz not rebuilt")
        return
    gz = pysam.tabix_index(str(p), preset="vcf", force=True, keep_original=True)
    print("wrote", gz)


if __name__ == "__main__":
    main()
