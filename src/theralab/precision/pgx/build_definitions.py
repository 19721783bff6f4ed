"""Regenerate the shipped PGx knowledge base from upstream CPIC/PharmVar-derived files.

Why: the caller must work offline after ``pip install theralab``, so allele definitions, phenotype
tables and CPIC recommendations are shipped inside the package (``pgx/data/``). This module turns
the upstream files (PharmCAT's ``definition_alleles/*_translation.json``, ``phenotype`` tables and
``guidelines`` JSON, whose content is CPIC's and PharmVar's, CC0) into three compact gzipped JSON
files plus a ``MANIFEST.json`` that records the source, version, licence and sha256 of each.

DPWG recommendations are CC BY-SA 4.0 (PharmGKB); they are not shipped, so the shipped package
stays CC0 + Apache-2.0 only. Run::

    python -m theralab.precision.pgx.build_definitions \\
        --definitions ../shared/data/precision/pharmcat/definition_alleles \\
        --phenotypes ../shared/data/precision/pharmcat/phenotype_head \\
        --phenotypes-fallback ../shared/data/precision/pharmcat/phenotype_v2_12/cpic \\
        --guidelines ../shared/data/precision/pharmcat/guidelines_v2_12 \\
        --pypgx-alleles ../shared/data/precision/pypgx_tables/allele-table.csv \\
        --pypgx-variants ../shared/data/precision/pypgx_tables/variant-table.csv
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

from theralab.precision.pgx.definitions import DATA_DIR

CC0 = "CC0-1.0 (CPIC and PharmVar content; definition files distributed by PharmGKB/PharmCAT)"


def _write_gz_json(obj: Any, path: Path) -> str:
    raw = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    # mtime=0 keeps the file byte-identical between rebuilds of the same input.
    with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(raw)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_alleles(def_dir: Path) -> dict[str, Any]:
    """Read every ``<GENE>_translation.json`` and keep what the matcher needs, sparsely."""
    exemptions = json.loads((def_dir / "exemptions.json").read_text())
    genes: dict[str, Any] = {}
    for path in sorted(def_dir.glob("*_translation.json")):
        d = json.loads(path.read_text())
        positions = [
            {
                "pos": v["position"],
                "rsid": v.get("rsid"),
                "ref": v["ref"],
                "alts": v["alts"],
                "hgvs": v.get("chromosomeHgvsName"),
            }
            for v in d["variants"]
        ]
        alleles = []
        for a in d["namedAlleles"]:
            defined = {str(i): x for i, x in enumerate(a["alleles"]) if x is not None}
            alleles.append(
                {"name": a["name"], "id": a.get("id"), "reference": bool(a["reference"]), "defined": defined}
            )
        ex = exemptions.get(d["gene"], {})
        genes[d["gene"]] = {
            "chromosome": d["chromosome"],
            "build": d["genomeBuild"],
            "version": d["version"],
            "source": d.get("source"),
            "positions": positions,
            "alleles": alleles,
            "ignored_alleles": ex.get("ignoredAlleles", []),
            # VCF records to skip: a *different* variant sharing a defined position (e.g. a G6PD deletion)
            "ignored_variants": [[p["position"], p["ref"]] for p in ex.get("ignoredPositions", [])],
            "required_positions": ex.get("requiredPositions", []),
            "unphased_priorities": [
                {"list": p["list"], "pick": p["pick"]} for p in ex.get("unphasedDiplotypePriorities", [])
            ],
            "suballeles": d.get("suballelesMap", {}),
        }
    return genes


def build_phenotypes(primary: Path, fallback: Path | None) -> dict[str, Any]:
    """Haplotype function/activity and the diplotype -> phenotype table per gene."""
    files = {p.stem: p for p in sorted(fallback.glob("*.json"))} if fallback else {}
    files.update({p.stem: p for p in sorted(primary.glob("*.json"))})
    out: dict[str, Any] = {}
    for gene, path in sorted(files.items()):
        d = json.loads(path.read_text())
        out[gene] = {
            "version": d.get("version"),
            "alleles": {
                a["name"]: {
                    "function": a.get("functionValue"),
                    "activity": a.get("activityValue"),
                    "lookup": a.get("lookupKey"),
                }
                for a in d.get("namedAlleles", [])
            },
            # diplotype -> [phenotype, activity score, lookup key]
            "diplotypes": {
                r["diplotype"]: [r.get("generesult"), r.get("activityScore"), r.get("lookupkey")]
                for r in d.get("diplotypes", [])
            },
        }
    return out


#: genes whose phenotype follows a CPIC rule over allele functions, taken from PyPGx's allele table
RULE_GENES = {"G6PD": "g6pd", "RYR1": "mhs"}


def add_rule_genes(pheno: dict[str, Any], pypgx_alleles: Path) -> None:
    """G6PD and RYR1 have no CPIC diplotype table in the PharmCAT files; their CPIC phenotypes follow
    simple rules over allele function (WHO class for G6PD, MHS association for RYR1), so ship the
    allele functions from PyPGx's CPIC-derived allele table (MIT) and a rule name."""
    import csv

    with open(pypgx_alleles, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for gene, rule in RULE_GENES.items():
        if gene in pheno and pheno[gene].get("diplotypes"):
            continue
        alleles = {
            r["StarAllele"]: {"function": r["Function"], "activity": None, "lookup": None}
            for r in rows
            if r["Gene"] == gene
        }
        pheno[gene] = {"version": "pypgx 0.27.0 allele-table", "alleles": alleles, "diplotypes": {}, "rule": rule}


def build_grch37_map(pypgx_variants: Path, alleles: dict[str, Any]) -> dict[str, Any]:
    """GRCh38 -> GRCh37 position and REF for every defined position PyPGx lists in both builds.

    PharmCAT's maintainers found lifting the definitions over unreliable (PharmCAT issue #28), so we
    do not lift: we take PyPGx's per-variant coordinates on both builds (curated from PharmVar and
    CPIC) and keep a position only when PyPGx writes its GRCh38 REF exactly as the definition does
    (same anchor base for indels). Positions without such a pair are reported as unavailable.
    """
    import csv

    with open(pypgx_variants, newline="") as fh:
        rows = list(csv.DictReader(fh))
    by38: dict[tuple[str, int], dict[str, str]] = {}
    for r in rows:
        try:
            by38[("chr" + r["Chromosome"], int(r["GRCh38Position"]))] = r
        except ValueError:
            continue
    out: dict[str, Any] = {}
    for gene, d in alleles.items():
        m = {}
        for p in d["positions"]:
            r = by38.get((d["chromosome"], p["pos"]))
            if r is None or r["GRCh38Allele"] != p["ref"] or not r["GRCh37Position"].isdigit():
                continue
            m[str(p["pos"])] = [int(r["GRCh37Position"]), r["GRCh37Allele"]]
        out[gene] = m
    return out


def build_guidelines(guide_dir: Path) -> list[dict[str, Any]]:
    """CPIC recommendations (CC0), each keyed by gene -> phenotype/activity lookup key."""
    out = []
    for path in sorted(guide_dir.glob("CPIC_*.json")):
        g = json.loads(path.read_text())
        gl = g["guideline"]
        recs = []
        for r in g.get("recommendations", []):
            recs.append(
                {
                    "drugs": [c["name"] for c in r.get("relatedChemicals", [])],
                    "population": r.get("population"),
                    "strength": (r.get("classification") or {}).get("term"),
                    "text_html": (r.get("text") or {}).get("html"),
                    "implications": r.get("implications", []),
                    "lookup": r.get("lookupKey", {}),
                    "alternate_drug": r.get("alternateDrugAvailable", False),
                    "dosing_information": r.get("dosingInformation", False),
                }
            )
        out.append(
            {
                "id": gl.get("id"),
                "name": gl.get("name"),
                "source": gl.get("source"),
                "url": gl.get("url"),
                "version": gl.get("version"),
                "drugs": [c["name"] for c in gl.get("relatedChemicals", [])],
                "genes": [c["symbol"] for c in gl.get("relatedGenes", [])],
                "citations": [
                    {k: c.get(k) for k in ("title", "pmid", "year", "journal")} for c in g.get("citations", [])
                ],
                "recommendations": recs,
            }
        )
    return out


def build(
    definitions: Path,
    phenotypes: Path,
    phenotypes_fallback: Path | None,
    guidelines: Path,
    out_dir: Path = DATA_DIR,
    pypgx_alleles: Path | None = None,
    pypgx_variants: Path | None = None,
) -> dict[str, Any]:
    """Build all shipped tables into ``out_dir`` and return the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    alleles = build_alleles(definitions)
    versions = sorted({g["version"] for g in alleles.values()})
    manifest: dict[str, Any] = {"format": 1, "genome_build": "GRCh38", "files": {}}
    sha = _write_gz_json(alleles, out_dir / "alleles.json.gz")
    manifest["files"]["alleles.json.gz"] = {
        "sha256": sha,
        "licence": CC0,
        "version": ",".join(versions),
        "source": "PharmCAT definition_alleles/*_translation.json + exemptions.json (CPIC/PharmVar allele "
        "definition tables, GRCh38)",
    }
    if pypgx_variants is not None:
        sha = _write_gz_json(build_grch37_map(pypgx_variants, alleles), out_dir / "grch37_positions.json.gz")
        manifest["files"]["grch37_positions.json.gz"] = {
            "sha256": sha,
            "licence": "MIT (PyPGx 0.27.0); coordinates from PharmVar/CPIC (CC0)",
            "version": "pypgx 0.27.0 variant-table",
            "source": "pypgx/api/data/variant-table.csv: GRCh38 and GRCh37 position and REF per variant",
        }
    pheno = build_phenotypes(phenotypes, phenotypes_fallback)
    if pypgx_alleles is not None:
        add_rule_genes(pheno, pypgx_alleles)
    sha = _write_gz_json(pheno, out_dir / "phenotypes.json.gz")
    manifest["files"]["phenotypes.json.gz"] = {
        "sha256": sha,
        "licence": CC0 + "; G6PD/RYR1 allele functions from PyPGx 0.27.0 (MIT), CPIC-derived",
        "version": ",".join(sorted({str(v["version"]) for v in pheno.values()})),
        "source": "CPIC allele function / diplotype phenotype tables (PharmCAT phenotype JSON); "
        "G6PD and RYR1 allele functions from pypgx/api/data/allele-table.csv",
    }
    guides = build_guidelines(guidelines)
    sha = _write_gz_json(guides, out_dir / "cpic_guidelines.json.gz")
    manifest["files"]["cpic_guidelines.json.gz"] = {
        "sha256": sha,
        "licence": "CC0-1.0 (CPIC guideline recommendations)",
        "version": "PharmCAT guidelines v2.12 snapshot",
        "source": "CPIC guideline annotations (PharmCAT guidelines/*.json, CPIC_* only; DPWG is CC BY-SA "
        "4.0 and not shipped)",
    }
    (out_dir / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--definitions", type=Path, required=True)
    ap.add_argument("--phenotypes", type=Path, required=True)
    ap.add_argument("--phenotypes-fallback", type=Path, default=None)
    ap.add_argument("--guidelines", type=Path, required=True)
    ap.add_argument("--pypgx-alleles", type=Path, default=None, help="PyPGx allele-table.csv (G6PD, RYR1)")
    ap.add_argument("--pypgx-variants", type=Path, default=None, help="PyPGx variant-table.csv (GRCh37 map)")
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    a = ap.parse_args(argv)
    m = build(
        a.definitions, a.phenotypes, a.phenotypes_fallback, a.guidelines, a.out, a.pypgx_alleles, a.pypgx_variants
    )
    print(json.dumps(m, indent=2))


if __name__ == "__main__":
    main()
