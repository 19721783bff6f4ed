"""Read a VCF (plain or bgzipped; one or many samples) into genotypes at the defined PGx positions.

Why: the matcher compares allele *strings* in the definitions' representation, so every record is
normalised first: multi-allelic records and split multi-allelic lines are merged, an indel written
with a shorter or longer REF than the definition is re-expressed on the definition's REF span, and
half-calls, unknown alleles and REF mismatches become specific warnings instead of silent errors.
Indexed files (``.tbi``/``.csi``) are read by region queries, so a whole genome costs seconds.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from theralab.errors import InputError
from theralab.precision.pgx.caller import SampleAllele
from theralab.precision.pgx.definitions import GeneDefinition, Position
from theralab.precision.pgx.vcf_checks import check_before_cyvcf2

#: Unindexed files above this size are refused: a full scan of a genome would take minutes.
MAX_UNINDEXED_BYTES = 200 * 1024 * 1024
#: Contig lengths that identify GRCh37/hg19 (GRCh38 lengths differ for every primary contig).
GRCH37_LENGTHS = {249250621, 243199373, 198022430, 135534747, 135006516, 133851895, 51304566, 155270560}
GRCH38_LENGTHS = {248956422, 242193529, 198295559, 133797422, 135086622, 133275309, 50818468, 156040895}


@dataclass(frozen=True)
class Record:
    """One VCF record reduced to what matching needs, for one sample."""

    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    gt: tuple[int | None, ...]
    phased: bool = False
    phase_set: int | None = None
    rsid: str | None = None


@dataclass
class SampleGenotypes:
    """Per gene: position index -> genotype, plus the warnings met on the way."""

    sample: str
    genes: dict[str, dict[int, SampleAllele]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    file_warnings: list[str] = field(default_factory=list)


def _to_def_span(vref: str, allele: str, p: Position) -> str | None:
    """Re-express a VCF allele (anchored at the same POS) on the definition's REF span."""
    if vref == p.ref:
        return allele
    if len(vref) < len(p.ref) and p.ref.startswith(vref):
        return allele + p.ref[len(vref) :]
    if len(vref) > len(p.ref) and vref.startswith(p.ref):
        tail = vref[len(p.ref) :]
        if allele.endswith(tail) and len(allele) > len(tail):
            return allele[: len(allele) - len(tail)]
    return None


def records_to_sample(defn: GeneDefinition, records: list[Record]) -> tuple[dict[int, SampleAllele], list[str]]:
    """Normalise one sample's records at a gene's positions into the matcher's input.

    Args:
        defn: the gene definition.
        records: the sample's records at the gene's defined positions (any order; a position may
            appear on several lines when a multi-allelic site was split).

    Returns:
        (position index -> genotype, warnings).
    """
    by_pos: dict[int, list[Record]] = {}
    for r in records:
        if (r.pos, r.ref) in defn.ignored_variants and not any(
            p.pos == r.pos and p.ref == r.ref for p in defn.positions
        ):
            continue  # a different variant at a defined position, excluded by the definitions
        by_pos.setdefault(r.pos, []).append(r)
    pos_index = {p.pos: p for p in defn.positions}
    out: dict[int, SampleAllele] = {}
    warnings: list[str] = []
    for pos, recs in sorted(by_pos.items()):
        p = pos_index.get(pos)
        if p is None:
            continue
        calls: list[list[str]] = []
        bad = False
        for r in recs:
            if any(g is None for g in r.gt):
                if all(g is None for g in r.gt):
                    bad = True  # plain no-call: reported as a missing position
                    continue
                warnings.append(
                    f"half-call {'/'.join('.' if g is None else str(g) for g in r.gt)} at {p.label}: treated as missing"
                )
                bad = True
                continue
            alleles = (r.ref, *r.alts)
            strs = []
            for g in r.gt:
                if g >= len(alleles):
                    raise InputError(
                        f"GT allele index {g} exceeds the {len(alleles)} alleles of the record",
                        where=f"{r.chrom}:{r.pos}",
                        hint="the VCF is malformed; re-export it",
                    )
                s = _to_def_span(r.ref, alleles[g], p)
                if s is None:
                    warnings.append(
                        f"REF {r.ref} in the VCF does not match the GRCh38 definition REF {p.ref} "
                        f"at {p.label}: position treated as missing"
                    )
                    bad = True
                    break
                strs.append(s)
            else:
                calls.append(strs)
        if bad or not calls:
            continue
        merged = _merge_split(calls, p.ref)
        for a in merged:
            if a != p.ref and a not in p.alts:
                warnings.append(f"allele {a} at {p.label} is not in the definitions ({p.ref}>{','.join(p.alts)})")
        phased = all(r.phased for r in recs) and len(recs) == 1
        out[p.index] = SampleAllele(
            p.index, tuple(merged), phased and len(merged) == 2, recs[0].phase_set if phased else None
        )
    return out, warnings


def _merge_split(calls: list[list[str]], ref: str) -> list[str]:
    """Merge one position's genotypes from split multi-allelic lines (``0/1`` + ``0/1`` -> ``a1/a2``)."""
    if len(calls) == 1:
        return calls[0]
    ploidy = max(len(c) for c in calls)
    non_ref = [a for c in calls for a in c if a != ref]
    merged = non_ref[:ploidy]
    return [ref] * (ploidy - len(merged)) + merged


def header_build(raw_header: str) -> str | None:
    """``GRCh37`` or ``GRCh38`` from contig lengths or the ``##reference`` line; None when silent."""
    lengths = {int(m) for m in re.findall(r"##contig=<[^>]*length=(\d+)", raw_header)}
    ref_line = " ".join(re.findall(r"##reference=.*", raw_header)).lower()
    if (lengths & GRCH37_LENGTHS and not lengths & GRCH38_LENGTHS) or any(
        k in ref_line for k in ("grch37", "hg19", "b37", "hs37")
    ):
        return "GRCh37"
    if lengths & GRCH38_LENGTHS or any(k in ref_line for k in ("grch38", "hg38")):
        return "GRCh38"
    return None


def detect_build(path: str | Path) -> str | None:
    """The genome build a VCF's header declares (None when it does not say)."""
    import cyvcf2

    try:
        vcf = cyvcf2.VCF(str(path))
    except Exception:  # unreadable files get their specific error from read_vcf
        return None
    build = header_build(vcf.raw_header)
    vcf.close()
    return build


def _detect_grch37(raw_header: str, where: str, defs_build: str) -> None:
    if header_build(raw_header) == "GRCh37" and defs_build.startswith("GRCh38"):
        raise InputError(
            "the VCF is on GRCh37/hg19; the allele definitions in use are GRCh38",
            where=where,
            hint="use --build GRCh37 (or auto) to call on GRCh37 coordinates, or lift the VCF over "
            "to GRCh38 (bcftools +liftover)",
        )


def read_vcf(
    path: str | Path, definitions: dict[str, GeneDefinition], sample: str | None = None, all_samples: bool = False
) -> list[SampleGenotypes]:
    """Read genotypes at every defined position of ``definitions`` for one or all samples.

    Args:
        path: VCF or bgzipped VCF; a ``.tbi``/``.csi`` index beside it enables region queries.
        definitions: gene -> definition (usually :func:`load_definitions`).
        sample: the sample to read; required when the file has several samples, unless
            ``all_samples`` is set.
        all_samples: read every sample in one pass.

    Raises:
        InputError: unreadable file, GRCh37 build, unknown or ambiguous sample, a large file without
            index. Unsorted records in an unindexed file are read and reported as a file warning.
    """
    import cyvcf2  # heavy C extension: imported where used so the CLI starts fast

    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise InputError("VCF file not found", where=where)
    if path.stat().st_size <= MAX_UNINDEXED_BYTES:
        check_before_cyvcf2(path)  # cyvcf2 segfaults on some malformed records: refuse them before it reads
    try:
        vcf = cyvcf2.VCF(str(path), gts012=False, strict_gt=False)
    except (OSError, Exception) as exc:  # cyvcf2 raises bare Exceptions on malformed headers
        raise InputError(f"cannot read the VCF: {exc}", where=where, hint="is it a VCF (plain or bgzip)?") from exc
    try:
        _detect_grch37(vcf.raw_header, where, next(iter(definitions.values())).build)
        samples = list(vcf.samples)
    except UnicodeDecodeError as exc:  # htslib hands back the header's bytes as they are
        raise InputError(f"the VCF header is not UTF-8 text ({exc.reason} at byte {exc.start})", where=where,
                         hint="sample names and header lines must be UTF-8") from exc
    if not samples:
        raise InputError("the VCF has no sample columns", where=where)
    if sample is not None:
        if sample not in samples:
            raise InputError(
                f"sample {sample!r} is not in the VCF",
                where=where,
                hint="samples in the file: " + ", ".join(samples[:20]),
            )
        chosen = [sample]
    elif len(samples) > 1 and not all_samples:
        raise InputError(
            f"the VCF has {len(samples)} samples; choose one",
            where=where,
            hint="pass --sample ID (one of: " + ", ".join(samples[:10]) + ") or --all-samples",
        )
    else:
        chosen = samples
    cols = [samples.index(s) for s in chosen]
    seqnames = set(vcf.seqnames or [])
    no_chr = bool(seqnames) and not any(s.startswith("chr") for s in seqnames)

    def vcf_chrom(c: str) -> str:
        return c[3:] if no_chr and c.startswith("chr") else c

    wanted: dict[tuple[str, int], list[str]] = {}
    for g, d in definitions.items():
        for p in d.positions:
            wanted.setdefault((p.chrom, p.pos), []).append(g)
    per_gene: dict[str, list[tuple[int, Record]]] = {g: [] for g in definitions}
    ref_checked = ref_bad = 0
    file_warnings: list[str] = []

    by_chrom: dict[str, list[int]] = {}
    for chrom, pos in wanted:
        by_chrom.setdefault(chrom, []).append(pos)
    for lst in by_chrom.values():
        lst.sort()
    symbolic = {"<NON_REF>", "<*>", "<X>"}

    def take(v: object) -> None:
        nonlocal ref_checked, ref_bad
        chrom = v.CHROM if v.CHROM.startswith("chr") else "chr" + v.CHROM  # type: ignore[attr-defined]
        gts = v.genotypes  # type: ignore[attr-defined]
        end = v.INFO.get("END")  # type: ignore[attr-defined]
        if end is not None and all(a in symbolic for a in v.ALT):  # type: ignore[attr-defined]
            # gVCF reference block: every defined position inside it is called as reference (0/0)
            lst = by_chrom.get(chrom, [])
            for pos in lst[bisect_left(lst, v.POS) : bisect_right(lst, int(end))]:  # type: ignore[attr-defined]
                for g in wanted[(chrom, pos)]:
                    p = next(x for x in definitions[g].positions if x.pos == pos)
                    for k, col in enumerate(cols):
                        alle = tuple(None if x < 0 else int(x) for x in gts[col][:-1])
                        per_gene[g].append((k, Record(chrom, pos, p.ref, (), alle, False, None, None)))
            return
        genes = wanted.get((chrom, v.POS))  # type: ignore[attr-defined]
        if not genes:
            return
        ps = None
        try:
            ps_arr = v.format("PS")  # type: ignore[attr-defined]
        except KeyError:
            ps_arr = None
        for g in genes:
            p = next(x for x in definitions[g].positions if x.pos == v.POS)  # type: ignore[attr-defined]
            ref_checked += 1
            if _to_def_span(v.REF, v.REF, p) is None:  # type: ignore[attr-defined]
                ref_bad += 1
            alts = tuple(a for a in v.ALT)  # type: ignore[attr-defined]
            for k, col in enumerate(cols):
                row = gts[col]
                alle = tuple(None if x < 0 else int(x) for x in row[:-1])
                if ps_arr is not None:
                    ps = int(ps_arr[col][0]) if ps_arr[col][0] >= 0 else None
                per_gene[g].append(
                    (
                        k,
                        Record(
                            chrom,
                            v.POS,
                            v.REF,
                            alts,
                            alle,
                            bool(row[-1]),
                            ps,  # type: ignore[attr-defined]
                            v.ID,
                        ),
                    )
                )  # type: ignore[attr-defined]

    indexed = any(Path(str(path) + ext).is_file() for ext in (".tbi", ".csi"))
    try:
        if indexed:
            present = set(vcf.seqnames or [])
            for d in definitions.values():
                chrom, start, end = d.region
                if present and vcf_chrom(chrom) not in present:
                    continue  # contig absent from the index: the gene's positions are all missing
                for v in vcf(f"{vcf_chrom(chrom)}:{start}-{end}"):
                    take(v)
        else:
            if path.stat().st_size > MAX_UNINDEXED_BYTES:
                raise InputError(
                    "large VCF without an index: a full scan would take minutes",
                    where=where,
                    hint=f"bgzip and index it: bgzip {path.name} && tabix -p vcf {path.name}.gz",
                )
            # An unindexed file is read whole, so record order cannot change a call; say so rather than fail
            # (PharmCAT's own test VCFs have neighbours swapped), because region queries would need sorting.
            last: tuple[str, int] | None = None
            seen_chroms: set[str] = set()
            for v in vcf:
                if (
                    not file_warnings
                    and last is not None
                    and ((v.CHROM == last[0] and v.POS < last[1]) or (v.CHROM != last[0] and v.CHROM in seen_chroms))
                ):
                    file_warnings.append(
                        f"records are not sorted ({v.CHROM}:{v.POS} comes after {last[0]}:{last[1]}); "
                        "the file was read whole so calls are unaffected, but it cannot be indexed: "
                        "bcftools sort in.vcf -Oz -o out.vcf.gz && tabix -p vcf out.vcf.gz"
                    )
                if last is not None and v.CHROM != last[0]:
                    seen_chroms.add(last[0])
                last = (v.CHROM, v.POS)
                take(v)
    except InputError:
        raise
    except Exception as exc:  # cyvcf2/htslib raise bare Exceptions on malformed records and genotypes
        raise InputError(f"malformed VCF record: {exc}", where=where,
                         hint="check the file with 'bcftools view'; each record needs CHROM, POS, REF, ALT and "
                         "one genotype per sample") from exc
    vcf.close()
    if ref_checked >= 5 and ref_bad * 2 > ref_checked:
        raise InputError(
            f"REF alleles disagree with the definitions ({next(iter(definitions.values())).build}) at "
            f"{ref_bad} of {ref_checked} PGx positions",
            where=where,
            hint="the VCF is probably on another build; try --build GRCh37",
        )
    out = []
    for k, s in enumerate(chosen):
        sg = SampleGenotypes(s, file_warnings=list(file_warnings))
        for g, d in definitions.items():
            recs = [r for kk, r in per_gene[g] if kk == k]
            sg.genes[g], sg.warnings[g] = records_to_sample(d, recs)
        out.append(sg)
    return out


_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def read_genotype_table(
    path: str | Path, definitions: dict[str, GeneDefinition], sample: str | None = None
) -> SampleGenotypes:
    """Read an array / targeted-panel export (rsID + genotype, e.g. consumer-genomics or QuantStudio).

    Accepts tab-, comma- or space-separated text with ``#`` comments; the rsID column is the first
    cell that starts with ``rs`` and the genotype is the last cell (``AG``, ``A/G``, ``A G``).
    Every genotype is checked against the definition's REF/ALT: an allele pair found only on the
    opposite strand is flipped (and said so); an A/T or C/G SNP cannot be strand-checked and is taken
    as forward with a warning; anything else (``--``, ``DI``, unknown alleles) becomes a missing
    position with the reason.

    Raises:
        InputError: file missing, or no line with an rsID of a defined position.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("genotype table not found", where=str(path))
    by_rsid: dict[str, list[tuple[str, Position]]] = {}
    for g, d in definitions.items():
        for p in d.positions:
            if p.rsid:
                by_rsid.setdefault(p.rsid, []).append((g, p))
    sg = SampleGenotypes(sample or path.name.split(".")[0])
    recs: dict[str, list[Record]] = {g: [] for g in definitions}
    warns: dict[str, list[str]] = {g: [] for g in definitions}
    used = 0
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip().strip('"') for c in re.split(r"[\t,; ]+", line.strip()) if c.strip()]
        rsid = next((c for c in cells if re.fullmatch(r"rs\d+", c)), None)
        if rsid is None or rsid not in by_rsid or len(cells) < 2:
            continue
        gt = re.sub(r"[/|]", "", cells[-1]).upper()
        if len(cells) >= 3 and len(cells[-1]) == 1 and len(cells[-2]) == 1:
            gt = (cells[-2] + cells[-1]).upper()
        for g, p in by_rsid[rsid]:
            used += 1
            where = f"{path.name}:{n} ({rsid})"
            valid = {p.ref, *p.alts}
            if len(gt) not in (1, 2) or not set(gt) <= set("ACGT"):
                warns[g].append(f"genotype {cells[-1]!r} at {where} is not a base call: position treated as missing")
                continue
            alleles = list(gt)
            if not set(alleles) <= valid:
                flipped = [a.translate(_COMPLEMENT) for a in alleles]
                if set(flipped) <= valid:
                    warns[g].append(
                        f"{where}: {gt} matches {p.label} only on the opposite strand; flipped to " + "".join(flipped)
                    )
                    alleles = flipped
                else:
                    warns[g].append(
                        f"{where}: alleles {gt} are not {p.ref}/{','.join(p.alts)} on either strand: "
                        "position treated as missing"
                    )
                    continue
            elif {p.ref, *p.alts} in ({"A", "T"}, {"C", "G"}):
                warns[g].append(f"{where}: A/T or C/G SNP, strand cannot be checked; read as forward strand")
            order = [p.ref, *p.alts]
            recs[g].append(Record(p.chrom, p.pos, p.ref, p.alts, tuple(order.index(a) for a in alleles)))
    if not used:
        raise InputError(
            "no line names an rsID at a defined PGx position",
            where=str(path),
            hint="expected lines such as 'rs4244285<TAB>AG' (rsID and genotype)",
        )
    for g, d in definitions.items():
        sg.genes[g], w = records_to_sample(d, recs[g])
        sg.warnings[g] = warns[g] + w
    return sg
