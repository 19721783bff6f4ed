"""Genotype readers for scoring: PLINK 1 bed/bim/fam, PLINK 2 pgen/pvar/psam and VCF.

Every reader gives the same thing: a variant table (``chrom``, ``pos``, ``id``, ``ref``, ``alt``),
the sample ids, and a loader of ALT-allele dosages (0, 1, 2, NaN for missing) for chosen variants.
Loading only the variants a score uses keeps memory at samples x matched variants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError

# PLINK 1 .bed: 2 bits per genotype, counting copies of the bim's first allele (A1).
# 00 -> hom A1 (2), 01 -> missing, 10 -> het (1), 11 -> hom A2 (0).
_BED_CODE = np.array([2.0, np.nan, 1.0, 0.0], dtype=np.float32)
_BED_MAGIC = bytes([0x6C, 0x1B, 0x01])


@dataclass
class Genotypes:
    """A genotype source: variants, samples and a dosage loader.

    Attributes:
        variants: one row per variant: ``chrom`` (no 'chr' prefix), ``pos`` (int), ``id``, ``ref``, ``alt``
            (comma-joined when multi-allelic).
        samples: sample ids (IID).
        build: genome build if the file says so (VCF ``##reference``/``##contig`` assembly), else None.
        loader: ``loader(indices) -> float32 array (n_samples, len(indices))`` of ALT dosages.
    """

    variants: pd.DataFrame
    samples: list[str]
    loader: Any
    build: str | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def dosages(self, indices: Sequence[int]) -> np.ndarray:
        """ALT-allele dosages (samples x variants, NaN = missing) for the variant rows ``indices``."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size == 0:
            return np.zeros((len(self.samples), 0), dtype=np.float32)
        return self.loader(idx)


def _clean_chrom(values: pd.Series) -> pd.Series:
    return values.astype(str).str.removeprefix("chr")


def _fileset(prefix: str | Path, *exts: str) -> list[Path]:
    """The files of a PLINK fileset from its prefix (or any one of its files); InputError names a missing one."""
    base = str(prefix)
    for ext in exts:
        base = base.removesuffix(f".{ext}")
    paths = [Path(f"{base}.{ext}") for ext in exts]
    for path in paths:
        if not path.exists():
            raise InputError(f"{path.name} is missing", where=str(path),
                             hint=f"a PLINK fileset needs {', '.join('.' + e for e in exts)}")
    return paths


def read_bed(prefix: str | Path) -> Genotypes:
    """Open a PLINK 1 binary fileset (``prefix.bed/.bim/.fam``), SNP-major.

    The bim's A1 column is treated as ALT and A2 as REF (plink2's convention when it writes bed from
    pgen/VCF), so dosages count A1 alleles.
    """
    bed, bim, fam = _fileset(prefix, "bed", "bim", "fam")
    bim_t = pd.read_csv(bim, sep=r"\s+", header=None, dtype=str, names=["chrom", "id", "cm", "pos", "a1", "a2"])
    fam_t = pd.read_csv(fam, sep=r"\s+", header=None, dtype=str)
    variants = pd.DataFrame({"chrom": _clean_chrom(bim_t["chrom"]), "pos": bim_t["pos"].astype(np.int64),
                             "id": bim_t["id"], "ref": bim_t["a2"].str.upper(), "alt": bim_t["a1"].str.upper()})
    samples = fam_t[1].tolist()
    n_samples = len(samples)
    bytes_per = (n_samples + 3) // 4
    raw = np.memmap(bed, dtype=np.uint8, mode="r")
    if bytes(raw[:3]) != _BED_MAGIC:
        raise InputError("not a SNP-major PLINK 1 .bed file (bad magic bytes)", where=str(bed),
                         hint="re-export with plink --make-bed")
    if raw.size != 3 + bytes_per * len(variants):
        raise InputError(f".bed size {raw.size} does not fit {len(variants)} variants x {n_samples} samples",
                         where=str(bed), hint="the .bim/.fam do not belong to this .bed")
    body = raw[3:].reshape(len(variants), bytes_per)

    def load(idx: np.ndarray) -> np.ndarray:
        packed = np.asarray(body[idx])  # (k, bytes_per)
        codes = np.stack([(packed >> shift) & 3 for shift in (0, 2, 4, 6)], axis=-1).reshape(len(idx), -1)
        return _BED_CODE[codes[:, :n_samples]].T.copy()

    return Genotypes(variants=variants, samples=samples, loader=load, source=str(bed))


def _read_plink2_text(path: Path) -> pd.DataFrame:
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("##")]
    if not lines:
        raise InputError("empty file", where=str(path))
    header = lines[0].lstrip("#").split()
    rows = [ln.split() for ln in lines[1:] if ln.strip()]
    return pd.DataFrame(rows, columns=header)


def read_pgen(prefix: str | Path) -> Genotypes:
    """Open a PLINK 2 fileset (``prefix.pgen/.pvar/.psam``) with ``pgenlib``; dosages count ALT."""
    try:
        import pgenlib
    except ImportError as exc:  # pragma: no cover - pgenlib is a dependency
        raise InputError("reading .pgen needs the pgenlib package", hint="pip install pgenlib") from exc
    pgen, pvar, psam = _fileset(prefix, "pgen", "pvar", "psam")
    pv = _read_plink2_text(pvar)
    ps = _read_plink2_text(psam)
    variants = pd.DataFrame({"chrom": _clean_chrom(pv["CHROM"]), "pos": pv["POS"].astype(np.int64), "id": pv["ID"],
                             "ref": pv["REF"].str.upper(), "alt": pv["ALT"].str.upper()})
    samples = ps["IID"].tolist()
    build = None
    for line in pvar.read_text().splitlines():
        if not line.startswith("##"):
            break
        if "assembly=" in line or line.startswith("##reference"):
            build = _build_from_text(line)
            if build:
                break

    def load(idx: np.ndarray) -> np.ndarray:
        reader = pgenlib.PgenReader(bytes(str(pgen), "utf8"))
        out = np.empty((len(idx), len(samples)), dtype=np.int32)
        buf = np.empty(len(samples), dtype=np.int32)
        for k, v in enumerate(idx):
            reader.read(int(v), buf)
            out[k] = buf
        reader.close()
        doses = out.astype(np.float32)
        doses[out < 0] = np.nan
        return doses.T.copy()

    return Genotypes(variants=variants, samples=samples, loader=load, build=build, source=str(pgen))


def _build_from_text(line: str) -> str | None:
    from theralab.precision.risk.scorefile import normalise_build

    low = line.lower()
    for key in ("grch38", "hg38", "grch37", "hg19", "ncbi36", "hg18"):
        if key in low:
            return normalise_build(key)
    return None


def read_vcf(path: str | Path) -> Genotypes:
    """Read a VCF/BCF with ``cyvcf2``: hard calls (GT) to ALT dosages, whole file in memory.

    Multi-allelic records keep their comma-joined ALT and are skipped by matching (as pgsc_calc
    does by default). Sample names are kept as written (``FID_IID`` in plink2-exported VCFs).
    """
    from cyvcf2 import VCF

    from theralab.precision.pgx.vcf_checks import check_before_cyvcf2

    path = Path(path)
    if not path.exists():
        raise InputError("VCF not found", where=str(path))
    check_before_cyvcf2(path)  # cyvcf2 segfaults on some malformed records (an upload could kill the server)
    try:
        vcf = VCF(str(path))
    except OSError as exc:
        raise InputError(f"cannot read the VCF: {exc}", where=str(path)) from exc
    build = None
    for line in vcf.raw_header.splitlines():
        if line.startswith("##reference") or ("##contig" in line and "assembly" in line):
            build = _build_from_text(line)
            if build:
                break
    rows, doses = [], []
    for rec in vcf:
        rows.append((str(rec.CHROM).removeprefix("chr"), int(rec.POS), rec.ID or ".", rec.REF.upper(),
                     ",".join(rec.ALT).upper()))
        gt = rec.gt_types.astype(np.float32)  # 0 hom-ref, 1 het, 2 unknown, 3 hom-alt
        d = np.where(gt == 3, 2.0, gt).astype(np.float32)
        d[gt == 2] = np.nan
        doses.append(d)
    samples = list(vcf.samples)
    vcf.close()
    variants = pd.DataFrame(rows, columns=["chrom", "pos", "id", "ref", "alt"])
    matrix = np.vstack(doses) if doses else np.zeros((0, len(samples)), dtype=np.float32)

    def load(idx: np.ndarray) -> np.ndarray:
        return matrix[idx].T.copy()

    return Genotypes(variants=variants, samples=samples, loader=load, build=build, source=str(path))


def open_genotypes(path: str | Path) -> Genotypes:
    """Open genotypes by file type: ``.vcf``/``.vcf.gz``/``.bcf``, ``.bed`` (or prefix), ``.pgen``."""
    text = str(path)
    if text.endswith((".vcf", ".vcf.gz", ".bcf")):
        return read_vcf(text)
    if text.endswith(".pgen") or Path(text + ".pgen").exists():
        return read_pgen(text)
    if text.endswith((".bed", ".bim", ".fam")) or Path(text + ".bed").exists():
        return read_bed(text)
    raise InputError(f"unknown genotype format: {text}", where=text,
                     hint="give a .vcf(.gz), a PLINK .bed (or its prefix) or a .pgen")
