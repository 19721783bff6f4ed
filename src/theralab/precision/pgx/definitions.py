"""Allele definitions for the pharmacogenes called from a VCF (GRCh38).

Why: a star-allele call is only as good as the table it is matched against. The tables are built by
:mod:`theralab.precision.pgx.build_definitions` from CPIC/PharmVar allele definitions (CC0) and
shipped inside the package, so calling works offline and every result can name the knowledge-base
version it used (see ``data/MANIFEST.json`` and ``docs/pgx.md``).

A :class:`GeneDefinition` holds the defined positions (with reference and alternate alleles in VCF
representation) and the named alleles, each as a sparse map position-index -> allele. Following
CPIC's tables (and PharmCAT), a blank cell in a non-reference allele means "reference" when
matching, while an allele's *score* counts only the cells it defines.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from theralab.errors import NotFoundError

DATA_DIR = Path(__file__).resolve().parent / "data"

#: IUPAC ambiguity codes used in a few definitions (e.g. CYP2C19 ``Y``) -> the bases they allow.
IUPAC: dict[str, frozenset[str]] = {
    "A": frozenset("A"),
    "C": frozenset("C"),
    "G": frozenset("G"),
    "T": frozenset("T"),
    "R": frozenset("AG"),
    "Y": frozenset("CT"),
    "S": frozenset("GC"),
    "W": frozenset("AT"),
    "K": frozenset("GT"),
    "M": frozenset("AC"),
    "B": frozenset("CGT"),
    "D": frozenset("AGT"),
    "H": frozenset("ACT"),
    "V": frozenset("ACG"),
    "N": frozenset("ACGT"),
}

#: Genes PharmCAT matches from VCF; CYP2D6 definitions are shipped but it is called from outside calls.
VCF_GENES: tuple[str, ...] = (
    "ABCG2",
    "CACNA1S",
    "CFTR",
    "CYP2B6",
    "CYP2C19",
    "CYP2C9",
    "CYP3A4",
    "CYP3A5",
    "CYP4F2",
    "DPYD",
    "G6PD",
    "IFNL3",
    "NAT2",
    "NUDT15",
    "RYR1",
    "SLCO1B1",
    "TPMT",
    "UGT1A1",
    "VKORC1",
)


def allele_matches(defined: str, observed: str) -> bool:
    """Whether an observed VCF allele satisfies a definition cell (exact, or an IUPAC wobble base)."""
    if defined == observed:
        return True
    if len(defined) == 1 and len(observed) == 1 and defined in IUPAC:
        return observed in IUPAC[defined]
    return False


@dataclass(frozen=True)
class Position:
    """One defined position: 1-based GRCh38 coordinate, rsID, VCF REF and the defined ALTs."""

    index: int
    chrom: str
    pos: int
    rsid: str | None
    ref: str
    alts: tuple[str, ...]
    hgvs: str | None = None

    @property
    def label(self) -> str:
        """``chr10:94761900 (rs12248560)``: how a position is named in explanations."""
        return f"{self.chrom}:{self.pos}" + (f" ({self.rsid})" if self.rsid else "")


@dataclass(frozen=True)
class NamedAllele:
    """A named allele (star allele, or a variant name for DPYD/CFTR/G6PD).

    Attributes:
        defined: position index -> allele, only the cells the definition fills in.
        reference: True for the gene's reference allele (defined at every position).
    """

    name: str
    id: str | None
    reference: bool
    defined: dict[int, str]

    def variant_cells(self, positions: tuple[Position, ...]) -> dict[int, str]:
        """The cells where this allele differs from the reference sequence (its core variants)."""
        return {i: a for i, a in self.defined.items() if a != positions[i].ref}


@dataclass(frozen=True)
class GeneDefinition:
    """All definitions for one gene, plus the gene's exemptions.

    Attributes:
        ignored_alleles: alleles left out of matching (e.g. G6PD "Mediterranean Haplotype").
        ignored_variants: (position, REF) of VCF records to skip: a different variant that shares a
            defined position (a G6PD deletion at the Chatham SNP's position).
        unphased_priorities: curated picks among diplotypes an unphased genotype cannot separate.
    """

    gene: str
    chromosome: str
    build: str
    version: str
    positions: tuple[Position, ...]
    alleles: tuple[NamedAllele, ...]
    ignored_alleles: frozenset[str] = frozenset()
    ignored_variants: frozenset[tuple[int, str]] = frozenset()
    required_positions: frozenset[int] = frozenset()
    unphased_priorities: tuple[tuple[frozenset[str], str], ...] = ()
    suballeles: dict[str, str] = field(default_factory=dict)
    unavailable: tuple[str, ...] = ()  # GRCh38 positions with no GRCh37 coordinate (GRCh37 set only)

    @property
    def reference(self) -> NamedAllele:
        """The reference allele (every gene has exactly one)."""
        return next(a for a in self.alleles if a.reference)

    @property
    def region(self) -> tuple[str, int, int]:
        """(chrom, start, end), 1-based inclusive, spanning every defined position and its REF."""
        start = min(p.pos for p in self.positions)
        end = max(p.pos + len(p.ref) - 1 for p in self.positions)
        return self.chromosome, start, end

    def allele(self, name: str) -> NamedAllele:
        """Look an allele up by name; raises NotFoundError naming the gene."""
        for a in self.alleles:
            if a.name == name:
                return a
        raise NotFoundError(f"{self.gene} has no allele named {name!r}", where=f"definitions/{self.gene}")


def _gene_from_json(gene: str, d: dict[str, Any]) -> GeneDefinition:
    positions = tuple(
        Position(i, d["chromosome"], p["pos"], p.get("rsid"), p["ref"], tuple(p["alts"]), p.get("hgvs"))
        for i, p in enumerate(d["positions"])
    )
    alleles = tuple(
        NamedAllele(a["name"], a.get("id"), a["reference"], {int(k): v for k, v in a["defined"].items()})
        for a in d["alleles"]
    )
    return GeneDefinition(
        gene=gene,
        chromosome=d["chromosome"],
        build=d["build"],
        version=d["version"],
        positions=positions,
        alleles=alleles,
        ignored_alleles=frozenset(d.get("ignored_alleles", [])),
        ignored_variants=frozenset((int(p), str(r)) for p, r in d.get("ignored_variants", [])),
        required_positions=frozenset(d.get("required_positions", [])),
        unphased_priorities=tuple((frozenset(p["list"]), p["pick"]) for p in d.get("unphased_priorities", [])),
        suballeles=dict(d.get("suballeles", {})),
    )


def _read_gz_json(name: str, data_dir: Path | None = None) -> Any:
    path = (data_dir or DATA_DIR) / name
    with gzip.open(path, "rt") as fh:
        return json.load(fh)


@lru_cache(maxsize=4)
def load_definitions(data_dir: Path | None = None, build: str = "GRCh38") -> dict[str, GeneDefinition]:
    """Load every shipped gene definition (cached; the tables are immutable).

    Args:
        data_dir: another knowledge-base folder (default: the shipped one).
        build: ``GRCh38`` (the definitions' own build) or ``GRCh37``: the same named alleles on the
            positions PyPGx maps to GRCh37; the others are listed in ``unavailable``.
    """
    raw = _read_gz_json("alleles.json.gz", data_dir)
    defs = {g: _gene_from_json(g, d) for g, d in sorted(raw.items())}
    if build == "GRCh38":
        return defs
    if build != "GRCh37":
        raise NotFoundError(
            f"no definitions for genome build {build!r}", where="pgx definitions", hint="use GRCh38 or GRCh37"
        )
    lift = _read_gz_json("grch37_positions.json.gz", data_dir)
    return {g: _to_grch37(d, lift.get(g, {})) for g, d in defs.items()}


def _to_grch37(d: GeneDefinition, lift: dict[str, list[Any]]) -> GeneDefinition:
    """Re-express a gene on GRCh37 coordinates; named-allele cells are bases, so they carry over."""
    keep = [p for p in d.positions if str(p.pos) in lift]
    new_index = {p.index: k for k, p in enumerate(keep)}
    positions = []
    for k, p in enumerate(keep):
        pos37, ref37 = lift[str(p.pos)]
        alts = tuple(a for a in (p.ref, *p.alts) if a != ref37)
        positions.append(Position(k, p.chrom, int(pos37), p.rsid, ref37, alts, None))
    alleles = tuple(
        NamedAllele(a.name, a.id, a.reference, {new_index[i]: v for i, v in a.defined.items() if i in new_index})
        for a in d.alleles
    )
    unavailable = tuple(p.label + " [GRCh38]" for p in d.positions if str(p.pos) not in lift)
    return GeneDefinition(
        gene=d.gene,
        chromosome=d.chromosome,
        build="GRCh37 (positions from PyPGx)",
        version=d.version,
        positions=tuple(positions),
        alleles=alleles,
        ignored_alleles=d.ignored_alleles,
        ignored_variants=frozenset(),
        required_positions=frozenset(),
        unphased_priorities=d.unphased_priorities,
        suballeles=d.suballeles,
        unavailable=unavailable,
    )


def get_gene(gene: str) -> GeneDefinition:
    """One gene's definition; raises NotFoundError listing the genes that exist."""
    defs = load_definitions()
    if gene not in defs:
        raise NotFoundError(
            f"no allele definitions for gene {gene!r}", where="pgx definitions", hint="known genes: " + ", ".join(defs)
        )
    return defs[gene]


@lru_cache(maxsize=1)
def manifest() -> dict[str, Any]:
    """The shipped knowledge base's manifest: per file source, version, licence and sha256."""
    return json.loads((DATA_DIR / "MANIFEST.json").read_text())


@lru_cache(maxsize=1)
def load_phenotype_tables() -> dict[str, Any]:
    """CPIC allele function/activity values and diplotype -> phenotype tables, per gene."""
    return _read_gz_json("phenotypes.json.gz")


@lru_cache(maxsize=1)
def load_guidelines() -> list[dict[str, Any]]:
    """CPIC guideline recommendations (drug, lookup key, strength, text, citations)."""
    return _read_gz_json("cpic_guidelines.json.gz")
