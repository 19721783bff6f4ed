"""PGS Catalog scoring files (format v2): the header, the variant table and the genome-build check.

A polygenic score is a weighted sum of effect-allele dosages, so the scoring file is the whole
model. Its header (``#key=value`` lines) says which genome build the positions are on; scoring
genotypes on another build silently matches the wrong variants, so a mismatch is refused here
rather than producing a plausible but wrong number.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from theralab.errors import InputError

#: Spellings of genome builds seen in PGS Catalog headers and VCF/PLINK metadata, mapped to one name.
BUILD_ALIASES = {
    "grch37": "GRCh37", "hg19": "GRCh37", "b37": "GRCh37", "37": "GRCh37", "ncbi37": "GRCh37",
    "grch38": "GRCh38", "hg38": "GRCh38", "b38": "GRCh38", "38": "GRCh38",
    "ncbi36": "NCBI36", "hg18": "NCBI36", "36": "NCBI36",
}


def normalise_build(value: str | None) -> str | None:
    """One spelling per build (``hg19`` -> ``GRCh37``); None for missing or ``NR`` (not reported)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.upper() in {"NR", "NA", "NONE"}:
        return None
    return BUILD_ALIASES.get(text.lower(), text)


@dataclass
class ScoringFile:
    """A parsed scoring file: its header fields and one row per variant and score column.

    Attributes:
        header: ``#key=value`` fields (``pgs_id``, ``genome_build``, ``format_version``...).
        variants: columns ``chr_name``, ``chr_position``, ``effect_allele``, ``other_allele`` (may be
            empty), ``rsID`` (may be empty) and one float column per score in ``score_columns``.
        score_columns: names of the weight columns (``effect_weight`` renamed to the score's name).
        source: where it was read from, for error messages.
    """

    header: dict[str, str]
    variants: pd.DataFrame
    score_columns: list[str]
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def genome_build(self) -> str | None:
        """The build named in the header (``genome_build`` or ``HmPOS_build``), normalised."""
        return normalise_build(self.header.get("HmPOS_build") or self.header.get("genome_build"))

    @property
    def name(self) -> str:
        """The score's name: ``pgs_name`` if given, else ``pgs_id``, else the file stem."""
        return self.header.get("pgs_name") or self.header.get("pgs_id") or Path(self.source).stem or "score"


def _open_text(path: Path) -> io.TextIOBase:
    if str(path).endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def read_scoring_file(source: str | Path | io.TextIOBase, *, name: str | None = None) -> ScoringFile:
    """Read a PGS Catalog scoring file (v1 or v2, plain or gzipped) or a plain weights table.

    Positions are taken from the harmonised columns (``hm_chr``/``hm_pos``) when present, because
    those are the ones on ``HmPOS_build``; otherwise from ``chr_name``/``chr_position``.

    Args:
        source: a path or an open text stream.
        name: the score's name when the header lacks ``pgs_name``/``pgs_id``.

    Raises:
        InputError: no variant table, no effect allele or weight column, no positions, or a weight that
            is not a number (with the row).
    """
    where = str(source) if not hasattr(source, "read") else (name or "upload")
    handle = _open_text(Path(source)) if not hasattr(source, "read") else source
    header: dict[str, str] = {}
    body: list[str] = []
    with handle:
        for line in handle:
            if line.startswith("#"):
                key, sep, value = line.lstrip("#").strip().partition("=")
                if sep:
                    header[key.strip()] = value.strip()
                continue
            if line.strip():
                body.append(line)
    if not body:
        raise InputError("the scoring file has no variant table", where=where,
                         hint="a PGS Catalog scoring file has '#' header lines then a tab-separated table")
    table = pd.read_csv(io.StringIO("".join(body)), sep="\t", dtype=str, keep_default_na=False)
    if "hm_chr" in table.columns and "hm_pos" in table.columns:
        table["chr_name"], table["chr_position"] = table["hm_chr"], table["hm_pos"]
    missing = [c for c in ("effect_allele",) if c not in table.columns]
    if missing or not {"chr_name", "chr_position"} <= set(table.columns):
        raise InputError(f"the scoring file lacks columns {missing or ['chr_name', 'chr_position']}", where=where,
                         hint="theralab matches by position: chr_name, chr_position and effect_allele are needed "
                              "(rsID-only files must be harmonised first, e.g. the PGS Catalog 'harmonized' files)")
    score_name = name or header.get("pgs_name") or header.get("pgs_id") or Path(where).stem
    if "effect_weight" in table.columns:
        weights = {score_name: "effect_weight"}
    else:  # multi-score tables: every column not describing the variant is a weight
        known = {"rsID", "chr_name", "chr_position", "effect_allele", "other_allele", "hm_chr", "hm_pos", "ID",
                 "is_haplotype", "is_diplotype", "imputation_method", "locus_name", "variant_description",
                 "inclusion_criteria", "is_interaction", "is_recessive", "is_dominant", "allelefrequency_effect",
                 "OR", "HR", "hm_source", "hm_rsID", "hm_inferOtherAllele", "hm_match_chr", "hm_match_pos"}
        weights = {c: c for c in table.columns if c not in known}
    if not weights:
        raise InputError("the scoring file has no weight column", where=where, hint="add an 'effect_weight' column")
    out = pd.DataFrame({
        "rsID": table.get("rsID", pd.Series([""] * len(table))).astype(str),
        "chr_name": table["chr_name"].astype(str).str.removeprefix("chr"),
        "effect_allele": table["effect_allele"].str.upper(),
        "other_allele": table.get("other_allele", pd.Series([""] * len(table))).fillna("").str.upper(),
    })
    pos = pd.to_numeric(table["chr_position"], errors="coerce")
    bad_pos = pos.isna()
    notes = []
    if bad_pos.all():
        raise InputError("no variant in the scoring file has a position", where=where,
                         hint="use a harmonised scoring file (hm_chr/hm_pos) on the build of your genotypes")
    if bad_pos.any():
        notes.append(f"{int(bad_pos.sum())} variants without a position were skipped")
    out["chr_position"] = pos.astype("Int64")
    for score, column in weights.items():
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any():
            row = int(values.isna().idxmax())
            raise InputError(f"weight {table[column].iloc[row]!r} in column {column} is not a number",
                             where=f"{where}, variant row {row + 1}")
        out[score] = values.astype(float)
    out = out.loc[~bad_pos].reset_index(drop=True)
    for flag in ("is_dominant", "is_recessive", "is_haplotype", "is_interaction"):
        if flag in table.columns and table.loc[~bad_pos, flag].str.lower().eq("true").any():
            raise InputError(f"the scoring file uses {flag}=True variants, which additive scoring cannot reproduce",
                             where=where, hint="only additive scores are supported")
    return ScoringFile(header=header, variants=out, score_columns=list(weights), source=where, notes=notes)


def check_build(scoring: ScoringFile, target_build: str | None) -> None:
    """Refuse to score when the scoring file and the genotypes are on different genome builds.

    Positions differ between builds (GRCh37 vs GRCh38 shift most of chr22 by tens of kb), so a
    position match across builds pairs unrelated variants. When either build is unknown the check
    cannot be made and scoring proceeds; the caller reports the unknown build.

    Raises:
        InputError: the two builds are known and differ.
    """
    file_build = scoring.genome_build
    target = normalise_build(target_build)
    if file_build and target and file_build != target:
        raise InputError(
            f"the scoring file {scoring.name} is on {file_build} but the genotypes are on {target}: "
            "positions differ between builds, so matching would pair the wrong variants",
            where=scoring.source,
            hint=f"download the PGS Catalog harmonised file for {target} (HmPOS_build={target}) "
                 "or lift the genotypes over",
        )
