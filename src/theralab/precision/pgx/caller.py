"""Named-allele matching: sample genotypes at defined positions -> star-allele diplotypes.

Why this design: it reproduces the rules clinical labs rely on in PharmCAT's Named Allele Matcher,
so calls can be compared one to one, while returning *every* top-scoring diplotype (PharmCAT's
unphased tie-break priorities are applied only to choose which one is listed first).

* A blank definition cell means "reference" when matching; an allele's score is the number of cells
  it defines at the positions the sample covers (the reference allele defines all of them). A
  diplotype's score is the sum of its two alleles' scores; the top-scoring diplotypes are returned.
* Phased data are matched strand by strand; unphased heterozygous positions may go either way;
  phase sets (``PS``) are honoured as independent blocks.
* Missing positions are tolerated: the definitions are reduced to the covered positions, alleles
  that define nothing there drop out, and the missing positions are reported.
* When no pair of named alleles explains the genotypes, each strand is explained as a combination
  of named alleles plus partial (unnamed) variants, e.g. ``[*2 + g.94781944G>A]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import product
from typing import Any

from theralab.precision.pgx.definitions import GeneDefinition, allele_matches

MAX_COMBINATION_BLOCKS = 12


@dataclass(frozen=True)
class SampleAllele:
    """A sample's genotype at one defined position, in allele strings (VCF representation).

    Attributes:
        index: the position's index in the gene definition.
        alleles: one (haploid) or two allele strings, in GT order.
        phased: whether the GT was phased (``|``).
        phase_set: the ``PS`` value when given; phased positions without PS form one block.
    """

    index: int
    alleles: tuple[str, ...]
    phased: bool = False
    phase_set: int | None = None

    @property
    def heterozygous(self) -> bool:
        """True when the two alleles differ."""
        return len(self.alleles) == 2 and self.alleles[0] != self.alleles[1]


@dataclass(frozen=True)
class Diplotype:
    """One diplotype (or a single haplotype for haploid calls) with its PharmCAT-style score."""

    allele1: str
    allele2: str | None
    score: int
    kind: str = "exact"  # "exact" | "combination"

    @property
    def name(self) -> str:
        """``*1/*2`` (or the single allele for a haploid call)."""
        return self.allele1 if self.allele2 is None else f"{self.allele1}/{self.allele2}"


@dataclass
class PositionReport:
    """What was seen at one position and which named alleles it points to."""

    position: str
    pos: int
    rsid: str | None
    ref: str
    genotype: str | None
    implied_alleles: list[str] = field(default_factory=list)


@dataclass
class GeneCall:
    """The call for one gene, with everything needed to explain it.

    Attributes:
        status: ``called``, ``not called`` (no covered position; never read as normal),
            ``no match`` (genotypes fit no allele or combination) or ``outside call``.
        diplotypes: all top-scoring diplotypes; the first is the preferred one.
    """

    gene: str
    status: str
    diplotypes: list[Diplotype] = field(default_factory=list)
    alternatives: list[Diplotype] = field(default_factory=list)
    phased: bool = False
    positions: list[PositionReport] = field(default_factory=list)
    missing_positions: list[str] = field(default_factory=list)
    not_excluded: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source: str = "vcf"
    definition_version: str | None = None

    @property
    def called(self) -> bool:
        """True when at least one diplotype was assigned."""
        return bool(self.diplotypes)

    def explain(self) -> str:
        """A plain-language account: positions, genotypes seen, alleles implied, ties, gaps."""
        if self.status == "outside call":
            what = self.diplotypes[0].name if self.diplotypes else "a phenotype"
            return f"{self.gene}: {what} supplied as an outside call (not from this VCF)."
        if self.status == "not called":
            return (
                f"{self.gene}: not called: none of its {len(self.missing_positions)} defined positions "
                "is in the VCF. This is not a normal result."
            )
        lines = [
            f"{self.gene}: "
            + (" or ".join(d.name for d in self.diplotypes) or "no matching diplotype")
            + f" ({'phased' if self.phased else 'unphased'} genotypes)"
        ]
        if len(self.diplotypes) > 1:
            lines.append(
                f"  {len(self.diplotypes)} diplotypes tie at score {self.diplotypes[0].score}; "
                "unphased data cannot tell them apart."
            )
        for p in self.positions:
            if p.genotype and any(a != p.ref for a in p.genotype.replace("|", "/").split("/")):
                names = p.implied_alleles[:8] + (["..."] if len(p.implied_alleles) > 8 else [])
                implied = f" -> {', '.join(names)}" if names else " -> no named allele"
                lines.append(f"  {p.position}: {p.genotype}{implied}")
        if self.missing_positions:
            more = " ..." if len(self.missing_positions) > 10 else ""
            lines.append(
                f"  {len(self.missing_positions)} defined position(s) missing from the VCF: "
                + ", ".join(self.missing_positions[:10])
                + more
            )
        if self.not_excluded:
            lines.append("  " + self.not_excluded_text())
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def not_excluded_text(self) -> str:
        """``*4, *6 cannot be excluded (defining positions absent from the input)``, or ''."""
        if not self.not_excluded:
            return ""
        names = self.not_excluded[:12]
        if len(self.not_excluded) > 12:
            names = [*names, f"... ({len(self.not_excluded)} in all)"]
        return f"{', '.join(names)} cannot be excluded: positions that define them are absent from the input"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used by the report and the API)."""
        d = asdict(self)
        d["diplotypes"] = [dict(asdict(x), name=x.name) for x in self.diplotypes]
        d["explanation"] = self.explain()
        return d


class _GeneIndex:
    """Per-gene bitmask index: position x observed allele -> alleles whose filled cell matches it."""

    def __init__(self, defn: GeneDefinition) -> None:
        self.defn = defn
        ref = defn.reference
        self.alleles = [a for a in defn.alleles if a.name not in defn.ignored_alleles]
        self.filled: list[list[str]] = []
        for a in self.alleles:
            row = []
            for p in defn.positions:
                cell = a.defined.get(p.index)
                if cell is None:
                    refcell = ref.defined.get(p.index, p.ref)
                    # a wobble in the reference row means "any of these"; fill with the VCF REF instead
                    cell = p.ref if (len(refcell) == 1 and refcell not in "ACGT") else refcell
                row.append(cell)
            self.filled.append(row)
        self._masks: dict[tuple[int, str], int] = {}
        self.n_usable = len(defn.positions)
        self.full_scores = [self.n_usable if a.reference else len(a.defined) for a in self.alleles]

    def mask(self, i: int, observed: str) -> int:
        key = (i, observed)
        m = self._masks.get(key)
        if m is None:
            m = 0
            for k, row in enumerate(self.filled):
                if allele_matches(row[i], observed):
                    m |= 1 << k
            self._masks[key] = m
        return m


_INDEX: dict[tuple[str, str, int], _GeneIndex] = {}


def _index(defn: GeneDefinition) -> _GeneIndex:
    key = (defn.gene, defn.version, id(defn))
    if key not in _INDEX:
        _INDEX[key] = _GeneIndex(defn)
    return _INDEX[key]


def _bits(m: int) -> list[int]:
    out = []
    k = 0
    while m:
        if m & 1:
            out.append(k)
        m >>= 1
        k += 1
    return out


def _blocks(sample: dict[int, SampleAllele]) -> dict[int, object]:
    """Phase block of every heterozygous position: one per phase set, one per unphased position."""
    out: dict[int, object] = {}
    for i, s in sample.items():
        if s.heterozygous:
            out[i] = ("ps", s.phase_set) if s.phased else ("u", i)
    return out


def match_gene(defn: GeneDefinition, sample: dict[int, SampleAllele], *, warnings: list[str] | None = None) -> GeneCall:
    """Call one gene from the sample's genotypes at its defined positions.

    Args:
        defn: the gene's definitions.
        sample: position index -> genotype, for the covered positions only (no-calls left out).
        warnings: messages from reading the VCF (half-calls, undocumented alleles) to carry along.
    """
    idx = _index(defn)
    avail = sorted(sample)
    missing = [p.label for p in defn.positions if p.index not in sample] + list(defn.unavailable)
    call = GeneCall(
        gene=defn.gene,
        status="not called",
        missing_positions=missing,
        warnings=list(warnings or []),
        definition_version=defn.version,
    )
    call.positions = _position_reports(defn, sample)
    if not avail or not defn.positions:
        return call
    call.phased = all(s.phased or not s.heterozygous for s in sample.values())
    if len(avail) == idx.n_usable:
        scores = idx.full_scores
    else:  # missing positions: each allele is scored on the cells it defines among the covered ones
        scores = [len(avail) if a.reference else sum(1 for i in avail if i in a.defined) for a in idx.alleles]
    valid = 0
    for k, sc in enumerate(scores):
        if sc > 0:
            valid |= 1 << k
    haploid = all(len(s.alleles) == 1 for s in sample.values())
    dips: list[Diplotype] = []
    if haploid:
        m = valid
        for i in avail:
            m &= idx.mask(i, sample[i].alleles[0])
        dips = [Diplotype(idx.alleles[k].name, None, scores[k]) for k in _bits(m)]
    else:
        dips = _exact_pairs(idx, sample, avail, valid, scores)
    if dips:
        top = max(d.score for d in dips)
        ranked = sorted(dips, key=lambda d: -d.score)
        dips = _apply_priorities(defn, dips, top)
        call.alternatives = [d for d in ranked if d not in dips][:20]
    else:
        dips = _combinations(defn, sample, avail, call)
    call.diplotypes = dips
    call.status = "called" if dips else "no match"
    if dips and len(avail) < len(defn.positions):
        call.not_excluded = _not_excluded(defn, idx, sample, dips)
    return call


def _not_excluded(
    defn: GeneDefinition, idx: _GeneIndex, sample: dict[int, SampleAllele], dips: list[Diplotype]
) -> list[str]:
    """Alleles that a defining position absent from the input could reveal (PharmCAT's warning).

    Why: in a variant-only VCF an absent position is unknown, not reference; an allele defined by a
    variant there (CYP2B6*6 at rs2279343) cannot be ruled out, so ``*1/*1`` must not read as clean.
    An allele counts when it has a variant cell at an absent position and agrees with the sample at
    every covered position where it has a variant.
    """
    called = {n for d in dips for n in (d.allele1, d.allele2) if n}
    out = []
    for a in idx.alleles:
        if a.reference or a.name in called:
            continue
        cells = a.variant_cells(defn.positions)
        if not any(i not in sample for i in cells):
            continue
        if all(i not in sample or any(allele_matches(c, x) for x in sample[i].alleles if x) for i, c in cells.items()):
            out.append(a.name)
    return out


def _exact_pairs(
    idx: _GeneIndex, sample: dict[int, SampleAllele], avail: list[int], valid: int, scores: list[int]
) -> list[Diplotype]:
    gts = {i: (sample[i].alleles * 2)[:2] for i in avail}
    cand = valid
    for i in avail:
        g1, g2 = gts[i]
        cand &= idx.mask(i, g1) | idx.mask(i, g2)
        if not cand:
            return []
    blocks = _blocks(sample)
    # homozygous positions are already satisfied by every candidate (the filter above): check hets only
    het = [i for i in avail if gts[i][0] != gts[i][1]]
    ks = _bits(cand)
    out = []
    for x, a in enumerate(ks):
        for b in ks[x:]:
            if _pair_fits(idx, gts, het, blocks, a, b):
                out.append(Diplotype(idx.alleles[a].name, idx.alleles[b].name, scores[a] + scores[b]))
    return out


def _pair_fits(
    idx: _GeneIndex, gts: dict[int, tuple[str, ...]], avail: list[int], blocks: dict[int, object], a: int, b: int
) -> bool:
    """Whether alleles a and b, one per strand, explain every genotype within the phase blocks."""
    orient: dict[object, set[int]] = {}
    ba, bb = 1 << a, 1 << b
    for i in avail:
        g1, g2 = gts[i]
        a1, a2 = bool(idx.mask(i, g1) & ba), bool(idx.mask(i, g2) & ba)
        b1, b2 = bool(idx.mask(i, g1) & bb), bool(idx.mask(i, g2) & bb)
        if g1 == g2:
            if not (a1 and b1):
                return False
            continue
        opts = set()
        if a1 and b2:
            opts.add(0)
        if a2 and b1:
            opts.add(1)
        if not opts:
            return False
        blk = blocks[i]
        cur = orient.get(blk)
        cur = opts if cur is None else cur & opts
        if not cur:
            return False
        orient[blk] = cur
    return True


def _apply_priorities(defn: GeneDefinition, dips: list[Diplotype], top: int) -> list[Diplotype]:
    """Keep the top-scoring diplotypes, unless a curated unphased priority names the call.

    CPIC/PharmCAT curate, for some genes (NAT2), which diplotype to report when an unphased genotype
    fits exactly a known set of diplotypes (e.g. ``*4/*5`` over ``*1/*16``): population haplotype
    frequencies make the pick far more likely than the score's parsimony rule would.
    """
    order = {a.name: k for k, a in enumerate(defn.alleles)}
    names = {d.name for d in dips} | {f"{d.allele2}/{d.allele1}" for d in dips}
    for group, pick in defn.unphased_priorities:
        if group <= names and len(group) == len(dips):
            return [d for d in dips if d.name == pick or f"{d.allele2}/{d.allele1}" == pick]
    dips = [d for d in dips if d.score == top]
    return sorted(dips, key=lambda d: (order.get(d.allele1, 10**6), order.get(d.allele2 or "", 10**6)))


def _position_reports(defn: GeneDefinition, sample: dict[int, SampleAllele]) -> list[PositionReport]:
    out = []
    for p in defn.positions:
        s = sample.get(p.index)
        implied: list[str] = []
        if s is not None:
            for obs in set(s.alleles):
                if obs == p.ref:
                    continue
                implied += [
                    a.name
                    for a in defn.alleles
                    if not a.reference and p.index in a.defined and allele_matches(a.defined[p.index], obs)
                ]
        gt = None if s is None else ("|" if s.phased else "/").join(s.alleles)
        out.append(PositionReport(p.label, p.pos, p.rsid, p.ref, gt, implied))
    return out


def _combinations(
    defn: GeneDefinition, sample: dict[int, SampleAllele], avail: list[int], call: GeneCall
) -> list[Diplotype]:
    """Explain each strand as named alleles plus partial variants when no exact pair fits."""
    het = [i for i in avail if sample[i].heterozygous]
    blocks: dict[object, list[int]] = {}
    for i, b in _blocks(sample).items():
        blocks.setdefault(b, []).append(i)
    keys = list(blocks)
    if len(keys) > MAX_COMBINATION_BLOCKS:
        call.warnings.append(
            f"{len(keys)} independent heterozygous blocks: too many phasings to search combinations; left uncalled"
        )
        return []
    best: dict[str, Diplotype] = {}
    best_cost: tuple[int, int] | None = None
    orients = product((0, 1), repeat=max(len(keys) - 1, 0))
    for o in orients:
        flip = dict(zip(keys, (0, *o), strict=False))
        s1: dict[int, str] = {}
        s2: dict[int, str] = {}
        for i in avail:
            al = (sample[i].alleles * 2)[:2]
            f = flip[_blocks(sample)[i]] if i in het else 0
            s1[i], s2[i] = (al[1], al[0]) if f else (al[0], al[1])
        n1, c1 = _explain_strand(defn, s1, avail)
        n2, c2 = _explain_strand(defn, s2, avail)
        cost = (c1[0] + c2[0], c1[1] + c2[1])
        if best_cost is None or cost < best_cost:
            best_cost, best = cost, {}
        if cost == best_cost:
            pair = sorted((n1, n2))
            score = sum(1 for i in avail if s1[i] != defn.positions[i].ref) + sum(
                1 for i in avail if s2[i] != defn.positions[i].ref
            )
            d = Diplotype(pair[0], pair[1], score, kind="combination")
            best[d.name] = d
    return list(best.values())


def _explain_strand(defn: GeneDefinition, strand: dict[int, str], avail: list[int]) -> tuple[str, tuple[int, int]]:
    """Name one strand; cost = (variants left as partials, number of components)."""
    variants = {i for i in avail if strand[i] != defn.positions[i].ref}
    if not variants:
        return defn.reference.name, (0, 0)
    comps = []
    for a in defn.alleles:
        if a.reference or a.name in defn.ignored_alleles:
            continue
        cells = {i: v for i, v in a.defined.items() if i in strand}
        core = {i for i, v in cells.items() if v != defn.positions[i].ref}
        if core and core <= variants and all(allele_matches(v, strand[i]) for i, v in cells.items()):
            comps.append((a.name, frozenset(core)))
    comps.sort(key=lambda c: (-len(c[1]), c[0]))
    # drop components whose core is inside another's: "*2 + *1" says nothing "*2" does not
    comps = [c for c in comps if not any(c[1] < o[1] for o in comps)]
    best: tuple[tuple[int, int], list[str]] = ((len(variants), 0), [])

    def search(start: int, covered: frozenset[int], chosen: list[str]) -> None:
        nonlocal best
        cost = (len(variants - covered), len(chosen))
        if cost < best[0]:
            best = (cost, list(chosen))
        if len(chosen) >= 4:
            return
        for k in range(start, len(comps)):
            name, core = comps[k]
            if core - covered:  # components may share cells (they all agree with the strand)
                search(k + 1, covered | core, [*chosen, name])

    if len(comps) <= 24:
        search(0, frozenset(), [])
    (left, _), chosen = best
    covered: set[int] = set()
    for name, core in comps:
        if name in chosen:
            covered |= core
    partials = [f"g.{defn.positions[i].pos}{defn.positions[i].ref}>{strand[i]}" for i in sorted(variants - covered)]
    parts = chosen + partials
    name = parts[0] if len(parts) == 1 else "[" + " + ".join(parts) + "]"
    return name, (left, len(parts))
