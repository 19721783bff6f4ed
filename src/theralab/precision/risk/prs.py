"""Polygenic risk scores: allele matching, plink2-style scoring, percentiles and absolute risk.

The score of sample ``i`` is ``sum_j w_j * d_ij`` where ``d_ij`` is the dosage of variant ``j``'s
effect allele. Matching follows pgsc_calc (the PGS Catalog's calculator): a scoring variant is
paired with a genotype variant at the same chromosome and position when its effect/other alleles
equal REF/ALT either way round, or after complementing both (a strand flip). Strand-ambiguous
variants (A/T, C/G), whose strand cannot be told from the alleles, are dropped by default, and so
are multi-allelic sites. Missing genotypes are mean-imputed as plink2 ``--score`` does: the
dosage ``2 * f`` where ``f`` is the effect allele's frequency among the scored samples.
The sums reproduce plink2's ``.sscore`` (``ALLELE_CT``, ``NAMED_ALLELE_DOSAGE_SUM``, ``_AVG``,
``_SUM``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError
from theralab.precision.risk.genotypes import Genotypes, read_vcf
from theralab.precision.risk.scorefile import ScoringFile, check_build, read_scoring_file

_COMPLEMENT = str.maketrans("ACGT", "TGCA")
# pgsc_calc's order of preference when one scoring variant matches several ways
MATCH_PRIORITY = ["refalt", "altref", "refalt_flip", "altref_flip",
                  "no_oa_ref", "no_oa_alt", "no_oa_ref_flip", "no_oa_alt_flip"]


def complement(allele: str) -> str:
    """The allele on the other strand (A<->T, C<->G), for single or multi-base alleles."""
    return allele.translate(_COMPLEMENT)


def is_ambiguous(a: str, b: str) -> bool:
    """True for strand-ambiguous (palindromic) SNPs: A/T or C/G, where a flip looks like a swap."""
    return len(a) == 1 and len(b) == 1 and complement(a) == b


def _match_type(effect: str, other: str, ref: str, alt: str) -> str | None:
    ce, co = complement(effect), complement(other)
    if other:
        if effect == ref and other == alt:
            return "refalt"
        if effect == alt and other == ref:
            return "altref"
        if ce == ref and co == alt:
            return "refalt_flip"
        if ce == alt and co == ref:
            return "altref_flip"
        return None
    if effect == ref:
        return "no_oa_ref"
    if effect == alt:
        return "no_oa_alt"
    if ce == ref:
        return "no_oa_ref_flip"
    if ce == alt:
        return "no_oa_alt_flip"
    return None


@dataclass
class MatchReport:
    """How each scoring variant fared: counts by outcome and the per-variant table.

    ``table`` has one row per scoring variant with ``status`` in ``matched``, ``ambiguous``,
    ``multiallelic``, ``absent`` (no genotype variant at that position) and ``allele_mismatch``.
    """

    table: pd.DataFrame
    n_scoring: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def n_matched(self) -> int:
        return int(self.counts.get("matched", 0))

    @property
    def match_rate(self) -> float:
        return self.n_matched / self.n_scoring if self.n_scoring else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"n_scoring": self.n_scoring, "match_rate": self.match_rate, "counts": self.counts}


def match_variants(scoring: ScoringFile, genotypes: Genotypes, *, keep_ambiguous: bool = False,
                   keep_multiallelic: bool = False) -> MatchReport:
    """Pair each scoring variant with a genotype variant (by chr:pos, then alleles).

    Args:
        scoring: the scoring file.
        genotypes: the genotype source.
        keep_ambiguous: keep A/T and C/G variants (assumed on the same strand, no flip); pgsc_calc's
            default drops them because their strand cannot be checked.
        keep_multiallelic: keep multi-allelic genotype sites (off: dropped, as pgsc_calc does).

    Returns:
        A MatchReport whose ``table`` adds ``gidx`` (genotype row), ``match_type`` and ``effect_is_alt``.
    """
    sv = scoring.variants.reset_index(drop=True).copy()
    sv["sidx"] = np.arange(len(sv))
    gv = genotypes.variants[["chrom", "pos", "ref", "alt"]].copy()
    gv["gidx"] = np.arange(len(gv))
    merged = sv[["sidx", "chr_name", "chr_position", "effect_allele", "other_allele"]].merge(
        gv, left_on=["chr_name", "chr_position"], right_on=["chrom", "pos"], how="left")
    status = np.array(["absent"] * len(sv), dtype=object)
    best: dict[int, tuple[int, int, str]] = {}
    for row in merged.itertuples(index=False):
        if pd.isna(row.gidx):
            continue
        s = int(row.sidx)
        if status[s] == "absent":
            status[s] = "allele_mismatch"
        alts = str(row.alt).split(",")
        if len(alts) > 1 and not keep_multiallelic:
            if status[s] != "matched":
                status[s] = "multiallelic"
            continue
        for alt in alts:
            kind = _match_type(row.effect_allele, row.other_allele, row.ref, alt)
            if kind is None:
                continue
            ambiguous = is_ambiguous(row.ref, alt)
            if ambiguous and not keep_ambiguous:
                if status[s] != "matched":
                    status[s] = "ambiguous"
                continue
            if ambiguous and kind.endswith("flip"):
                continue  # an ambiguous SNP kept as-is is taken on the stated strand
            rank = MATCH_PRIORITY.index(kind)
            if s not in best or rank < best[s][0]:
                best[s] = (rank, int(row.gidx), kind)
                status[s] = "matched"
    table = sv.drop(columns=["sidx"]).copy()
    table["status"] = status
    table["gidx"] = [best[s][1] if s in best else -1 for s in range(len(sv))]
    table["match_type"] = [best[s][2] if s in best else "" for s in range(len(sv))]
    table["effect_is_alt"] = table["match_type"].str.contains("altref|no_oa_alt", regex=True)
    counts = {k: int(v) for k, v in table["status"].value_counts().items()}
    return MatchReport(table=table, n_scoring=len(sv), counts=counts)


@dataclass
class ScoreResult:
    """Per-sample scores in plink2's ``.sscore`` layout plus the matching report."""

    scores: pd.DataFrame  # IID, ALLELE_CT, DENOM, NAMED_ALLELE_DOSAGE_SUM, <score>_AVG, <score>_SUM
    match: MatchReport
    score_columns: list[str]
    build: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What a report shows: how many variants were used, dropped and why, and the score spread."""
        out: dict[str, Any] = {"samples": int(len(self.scores)), "build": self.build, "notes": self.notes,
                               **self.match.to_dict()}
        for col in self.score_columns:
            s = self.scores[f"{col}_SUM"]
            out[col] = {"mean": float(s.mean()), "sd": float(s.std(ddof=1)) if len(s) > 1 else 0.0}
        return out


def score(scoring: ScoringFile, genotypes: Genotypes, *, keep_ambiguous: bool = False,
          mean_impute: bool = True, min_match_rate: float = 0.0, check_builds: bool = True) -> ScoreResult:
    """Score every sample: ``SUM = sum_j w_j * d_ij`` over matched variants, plink2 style.

    Args:
        scoring: the scoring file (one or more weight columns).
        genotypes: the genotypes.
        keep_ambiguous: keep strand-ambiguous SNPs (default: drop, as pgsc_calc).
        mean_impute: missing genotype -> ``2 * f_effect`` (plink2 default); off: it contributes 0.
        min_match_rate: refuse (InputError) when fewer than this share of scoring variants match,
            because a score built from a small subset is not the published score (pgsc_calc uses 0.75).
        check_builds: refuse scoring files on another build than the genotypes (when both are known).

    Returns:
        A ScoreResult. ``ALLELE_CT`` counts the non-missing alleles (2 per called variant), ``DENOM``
        is 2 x the scored variants (imputed calls count), ``NAMED_ALLELE_DOSAGE_SUM`` sums the called
        effect-allele dosages, and
        ``_AVG = _SUM / DENOM`` exactly as plink2 writes them.
    """
    notes = list(scoring.notes)
    if check_builds:
        check_build(scoring, genotypes.build)
    if genotypes.build is None and scoring.genome_build:
        notes.append(f"the genotypes do not state their build; assumed {scoring.genome_build} as the scoring file")
    report = match_variants(scoring, genotypes, keep_ambiguous=keep_ambiguous)
    if report.n_matched == 0:
        raise InputError(f"no variant of {scoring.name} matched the genotypes "
                         f"({report.counts})", where=genotypes.source,
                         hint="check chromosome naming, the genome build and that the files cover the same region")
    if report.match_rate < min_match_rate:
        raise InputError(f"only {report.match_rate:.1%} of {scoring.name}'s variants matched "
                         f"(minimum {min_match_rate:.0%}): {report.counts}", where=genotypes.source,
                         hint="lower min_match_rate to score anyway, knowing the score is not the published one")
    used = report.table[report.table["status"] == "matched"]
    alt = genotypes.dosages(used["gidx"].to_numpy())  # samples x k, ALT dosage
    effect = np.where(used["effect_is_alt"].to_numpy()[None, :], alt, 2.0 - alt).astype(np.float64)
    called = ~np.isnan(effect)
    n_called = called.sum(axis=0)
    freq = np.where(n_called > 0, np.nansum(effect, axis=0) / np.maximum(2 * n_called, 1), 0.0)
    filled = np.where(called, effect, 2.0 * freq[None, :] if mean_impute else 0.0)
    allele_ct = 2 * called.sum(axis=1)
    denom = 2 * len(used)  # plink2: ploidy x scored variants, missing calls included (they are imputed)
    out = pd.DataFrame({"IID": genotypes.samples, "ALLELE_CT": allele_ct, "DENOM": denom,
                        "NAMED_ALLELE_DOSAGE_SUM": np.where(called, effect, 0.0).sum(axis=1)})
    for col in scoring.score_columns:
        w = used[col].to_numpy(dtype=np.float64)
        total = filled @ w
        out[f"{col}_AVG"] = total / denom
        out[f"{col}_SUM"] = total
    absent = report.counts.get("absent", 0)
    if absent:
        notes.append(f"{absent} scoring variants are absent from the genotypes")
    return ScoreResult(scores=out, match=report, score_columns=list(scoring.score_columns),
                       build=scoring.genome_build or genotypes.build, notes=notes)


def score_uploads(scorefile: bytes, vcf: bytes, *, score_name: str, genotype_build: str | None = None,
                  keep_ambiguous: bool = False, min_match_rate: float = 0.0) -> ScoreResult:
    """Score an uploaded scoring file against an uploaded VCF (the API and the web page).

    The readers work on files, so the uploads are written to a private temporary folder (gzip told by
    its magic bytes) that is gone when this returns; a reading error names the upload, never the
    server's temporary path. ``genotype_build`` states the build when the VCF does not.
    """
    with tempfile.TemporaryDirectory(prefix="theralab-prs-") as tmp:
        sf_path = Path(tmp) / ("score.txt.gz" if scorefile[:2] == b"\x1f\x8b" else "score.txt")
        sf_path.write_bytes(scorefile)
        vcf_path = Path(tmp) / ("upload.vcf.gz" if vcf[:2] == b"\x1f\x8b" else "upload.vcf")
        vcf_path.write_bytes(vcf)
        try:
            scoring = read_scoring_file(sf_path, name=score_name)
            genotypes = read_vcf(vcf_path)
        except InputError as exc:
            exc.where = "upload"
            raise
    if genotype_build:
        genotypes.build = genotype_build
    return score(scoring, genotypes, keep_ambiguous=keep_ambiguous, min_match_rate=min_match_rate)
