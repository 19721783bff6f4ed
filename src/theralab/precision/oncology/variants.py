"""Somatic variants from MAF or annotated VCF, normalised to gene + HGVS.p (one-letter) + position.

Knowledge bases and variant callers spell the same change differently (``V600E``, ``p.V600E``,
``p.Val600Glu``, ``p.(Val600Glu)``, ``ENSP...:p.Val600Glu``); matching needs one spelling. We use
the short one-letter HGVS.p (``p.V600E``, ``p.R213*``, ``p.E746_A750del``, ``p.L747fs``), keep the
codon position for codon-level matches, and a coarse variant class (missense, nonsense,
frameshift, splice, inframe_indel, ...) for class-level assertions (e.g. 'any truncating').
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from theralab.errors import InputError

AA3 = {"Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G", "His": "H",
       "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W",
       "Tyr": "Y", "Val": "V", "Ter": "*", "Sec": "U", "Xaa": "X"}
_AA3_RE = re.compile("|".join(AA3))
_CODON_RE = re.compile(r"^p\.([A-Z*])(\d+)")

#: Variant classes (MAF Variant_Classification / VEP / SnpEff consequence -> one vocabulary).
CLASS_MAP = {
    "missense_mutation": "missense", "missense_variant": "missense", "missense": "missense",
    "nonsense_mutation": "nonsense", "stop_gained": "nonsense", "nonsense": "nonsense",
    "frame_shift_del": "frameshift", "frame_shift_ins": "frameshift", "frameshift_variant": "frameshift",
    "frameshift": "frameshift",
    "splice_site": "splice", "splice_acceptor_variant": "splice", "splice_donor_variant": "splice",
    "splice site": "splice",
    "in_frame_del": "inframe_indel", "in_frame_ins": "inframe_indel", "inframe_deletion": "inframe_indel",
    "inframe_insertion": "inframe_indel", "deletion": "inframe_indel", "insertion": "inframe_indel",
    "silent": "synonymous", "synonymous_variant": "synonymous", "translation_start_site": "start_lost",
    "start_lost": "start_lost", "nonstop_mutation": "stop_lost", "stop_lost": "stop_lost",
}
TRUNCATING = {"nonsense", "frameshift", "splice"}


def normalise_protein_change(text: str | None) -> str:
    """One-letter short HGVS.p: ``Val600Glu`` / ``p.(Val600Glu)`` / ``V600E`` -> ``p.V600E``; '' if none.

    ``Ter``/``X`` become ``*``; a frameshift keeps only ``fs`` (``p.L747fs``), as knowledge bases do.
    """
    if text is None:
        return ""
    s = str(text).strip()
    if not s or s in {".", "-", "nan", "NA", "p.?", "p.="}:
        return ""
    if ":" in s:
        s = s.split(":")[-1]
    s = s.removeprefix("p.").strip("()")
    s = _AA3_RE.sub(lambda m: AA3[m.group(0)], s)
    s = re.sub(r"^([A-Z*]\d+)X$", r"\1*", s)
    s = re.sub(r"fs.*$", "fs", s)  # p.L747Sfs*12 -> p.L747fs
    s = re.sub(r"^([A-Z*]\d+)[A-Z*]?fs$", r"\1fs", s)
    return "p." + s


def codon_of(protein_change: str) -> tuple[str, int] | None:
    """(reference amino acid, codon number) of a one-letter HGVS.p, e.g. ('V', 600)."""
    m = _CODON_RE.match(protein_change or "")
    return (m.group(1), int(m.group(2))) if m else None


@dataclass(frozen=True)
class SomaticVariant:
    """One somatic variant in one sample, normalised."""

    gene: str
    protein_change: str = ""
    variant_class: str = ""
    chrom: str = ""
    pos: int | None = None
    ref: str = ""
    alt: str = ""
    sample: str = ""
    vaf: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        return f"{self.gene} {self.protein_change}".strip()


def make_variant(gene: str, protein_change: str = "", variant_class: str = "", **kwargs: Any) -> SomaticVariant:
    """Build a normalised variant (gene upper-cased, HGVS.p and class normalised; class inferred from HGVS.p)."""
    if not gene or not str(gene).strip():
        raise InputError("a variant needs a gene symbol")
    pc = normalise_protein_change(protein_change)
    vc = CLASS_MAP.get(str(variant_class).strip().lower(), str(variant_class).strip().lower())
    if not vc and pc:
        if pc.endswith("fs"):
            vc = "frameshift"
        elif pc.endswith("*"):
            vc = "nonsense"
        elif "del" in pc or "ins" in pc or "dup" in pc:
            vc = "inframe_indel"
        elif re.match(r"^p\.[A-Z]\d+[A-Z]$", pc):
            vc = "missense"
    return SomaticVariant(gene=str(gene).strip().upper(), protein_change=pc, variant_class=vc, **kwargs)


def read_maf(source: str | Path | io.TextIOBase) -> tuple[list[SomaticVariant], list[dict[str, str]]]:
    """Read a MAF (tab-separated, '#' comment lines): Hugo_Symbol, HGVSp_Short (or HGVSp / Protein_Change),
    Variant_Classification, Chromosome, Start_Position, Reference_Allele, Tumor_Seq_Allele2,
    Tumor_Sample_Barcode. Returns ``(variants, bad rows with where and why)``."""
    text = source.read() if hasattr(source, "read") else Path(source).read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    if not lines:
        raise InputError("the MAF is empty")
    reader = csv.DictReader(lines, delimiter="\t")
    if "Hugo_Symbol" not in (reader.fieldnames or []):
        raise InputError("not a MAF: no Hugo_Symbol column", hint="MAF columns: Hugo_Symbol, HGVSp_Short, ...")
    variants, bad = [], []
    for row_no, row in enumerate(reader, start=2):
        try:
            alt = row.get("Tumor_Seq_Allele2") or row.get("Tumor_Seq_Allele1") or ""
            t_alt, t_depth = row.get("t_alt_count"), row.get("t_depth")
            vaf = float(t_alt) / float(t_depth) if t_alt and t_depth and float(t_depth) > 0 else None
            pos = row.get("Start_Position") or ""
            variants.append(make_variant(
                row.get("Hugo_Symbol", ""), row.get("HGVSp_Short") or row.get("HGVSp") or row.get("Protein_Change", ""),
                row.get("Variant_Classification", ""), chrom=str(row.get("Chromosome", "")).removeprefix("chr"),
                pos=int(pos) if pos.strip().isdigit() else None, ref=row.get("Reference_Allele", ""), alt=alt,
                sample=row.get("Tumor_Sample_Barcode", ""), vaf=vaf))
        except (InputError, ValueError) as exc:
            bad.append({"where": f"row {row_no}", "why": str(exc)})
    return variants, bad


def read_annotated_vcf(path: str | Path, sample: str = "") -> tuple[list[SomaticVariant], list[dict[str, str]]]:
    """Read a VEP (CSQ) or SnpEff (ANN) annotated VCF: gene, HGVS.p and consequence from the first
    annotation that has a protein change (else the first). Unannotated records are returned as bad rows."""
    from cyvcf2 import VCF

    from theralab.precision.pgx.vcf_checks import check_before_cyvcf2

    check_before_cyvcf2(path)  # cyvcf2 segfaults on some malformed records (an upload could kill the server)
    try:
        vcf = VCF(str(path))
    except OSError as exc:
        raise InputError(f"cannot read the VCF: {exc}", where=str(path)) from exc
    fmt: dict[str, list[str]] = {}
    for line in vcf.raw_header.splitlines():
        for key in ("CSQ", "ANN"):
            if line.startswith(f"##INFO=<ID={key},"):
                desc = line.split("Format: ")[-1] if "Format: " in line else line.split("'")[1]
                fmt[key] = [f.strip(" '\"") for f in desc.rstrip('">').split("|")]
    if not fmt:
        raise InputError("the VCF has no VEP (CSQ) or SnpEff (ANN) annotation", where=str(path),
                         hint="annotate it with VEP or SnpEff first, or give a MAF")
    variants, bad = [], []
    for n, rec in enumerate(vcf, start=1):
        chosen = None
        for key, fields in fmt.items():
            raw = rec.INFO.get(key)
            if not raw:
                continue
            for entry in str(raw).split(","):
                values = dict(zip(fields, entry.split("|"), strict=False))
                if key == "CSQ":
                    cand = (values.get("SYMBOL", ""), values.get("HGVSp", ""), values.get("Consequence", ""))
                else:
                    cand = (values.get("Gene_Name", ""), values.get("HGVS.p", ""), values.get("Annotation", ""))
                if chosen is None or (not chosen[1] and cand[1]):
                    chosen = cand
        if not chosen or not chosen[0]:
            bad.append({"where": f"record {n} ({rec.CHROM}:{rec.POS})", "why": "no gene annotation"})
            continue
        consequence = chosen[2].split("&")[0]
        variants.append(make_variant(chosen[0], chosen[1], consequence, chrom=str(rec.CHROM).removeprefix("chr"),
                                     pos=int(rec.POS), ref=rec.REF, alt=",".join(rec.ALT), sample=sample))
    vcf.close()
    return variants, bad
