"""Diplotype -> allele function, activity score and phenotype, from CPIC's tables.

Why: recommendations are keyed by phenotype or activity score, not by star alleles, and CPIC
publishes the exact diplotype -> phenotype table for each gene; looking it up (rather than
re-deriving it from rules) reproduces CPIC's assignments one to one, including "Indeterminate".
A gene that was not called stays "No Result" (never "Normal"); a combination or partial allele has
no CPIC phenotype and is reported as Indeterminate with the reason.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from theralab.precision.pgx.caller import GeneCall
from theralab.precision.pgx.definitions import load_definitions, load_phenotype_tables

NO_RESULT = "No Result"
INDETERMINATE = "Indeterminate"


@dataclass(frozen=True)
class AlleleFunction:
    """One haplotype's CPIC function and activity value."""

    allele: str
    function: str | None
    activity: str | None


@dataclass
class Phenotype:
    """A gene's phenotype for one diplotype, with the key CPIC recommendations are looked up by.

    Attributes:
        lookup_key: the value CPIC guidelines index recommendations by (a phenotype such as
            ``Poor Metabolizer`` or an activity score such as ``1.5``); ``No Result`` when uncalled.
    """

    gene: str
    diplotype: str | None
    phenotype: str
    activity_score: str | None
    lookup_key: str
    functions: list[AlleleFunction] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _gene_key(gene: str) -> str:
    return gene.replace("-", "_")


def allele_function(gene: str, allele: str) -> AlleleFunction:
    """CPIC function/activity of one allele; sub-alleles (``*45.002``) inherit their parent's."""
    tab = load_phenotype_tables().get(_gene_key(gene), {}).get("alleles", {})
    name = allele
    if name not in tab:
        defs = load_definitions()
        parent = defs[gene].suballeles.get(allele) if gene in defs else None
        name = parent or allele
    row = tab.get(name, {})
    return AlleleFunction(allele, row.get("function"), row.get("activity"))


def phenotype_for(gene: str, diplotype: str | None) -> Phenotype:
    """Look one diplotype up in CPIC's table for ``gene``.

    Args:
        gene: HGNC symbol (``CYP2C19``; ``MT-RNR1`` also accepted).
        diplotype: ``a/b`` (either order), a single allele for haploid calls, or None when uncalled.
    """
    if diplotype is None:
        return Phenotype(gene, None, NO_RESULT, None, NO_RESULT, note="gene not called")
    if gene.startswith("HLA-"):
        return Phenotype(
            gene,
            diplotype,
            diplotype,
            None,
            diplotype,
            note="HLA alleles are matched to recommendations by allele positivity",
        )
    tables = load_phenotype_tables()
    tab = tables.get(_gene_key(gene))
    parts = diplotype.split("/")
    funcs = [allele_function(gene, a) for a in parts]
    if tab is not None and tab.get("rule"):
        return _rule_phenotype(gene, diplotype, tab["rule"], funcs)
    if tab is None or not tab.get("diplotypes"):
        return _indeterminate(gene, diplotype, funcs, f"no CPIC diplotype-phenotype table is shipped for {gene}")
    defs = load_definitions()
    sub = defs[gene].suballeles if gene in defs else {}
    norm = [sub.get(a, a) for a in parts]
    keys = ["/".join(norm), "/".join(reversed(norm))]
    for k in keys:
        row = tab["diplotypes"].get(k)
        if row is not None:
            pheno, score, lookup = row
            return Phenotype(gene, diplotype, pheno or INDETERMINATE, score, lookup or pheno or INDETERMINATE, funcs)
    if gene == "CYP2D6" and any(("+" in a) or ("x" in a) for a in parts):
        structural = cyp2d6_structural(diplotype)
        if structural is not None:
            return structural
    if gene == "DPYD" and "[" in diplotype:
        dpyd = _dpyd_combination(diplotype, tab)
        if dpyd is not None:
            return dpyd
    note = (
        "combination or partial allele: CPIC assigns no phenotype"
        if ("[" in diplotype or "g." in diplotype)
        else f"{diplotype} is not in CPIC's {gene} table"
    )
    return _indeterminate(gene, diplotype, funcs, note)


def _indeterminate(gene: str, diplotype: str, funcs: list[AlleleFunction], note: str) -> Phenotype:
    """No phenotype can be called for this diplotype; ``note`` says why (shown in the report)."""
    return Phenotype(gene, diplotype, INDETERMINATE, None, INDETERMINATE, funcs, note=note)


#: CPIC 2019 CYP2D6 activity score -> phenotype (Caudle et al., Clin Transl Sci 2020;13:116)
CYP2D6_SCORE_BANDS: tuple[tuple[float, float, str], ...] = (
    (0.0, 0.0, "Poor Metabolizer"),
    (0.25, 1.0, "Intermediate Metabolizer"),
    (1.25, 2.25, "Normal Metabolizer"),
    (2.5, 99.0, "Ultrarapid Metabolizer"),
)


def _copy_activity(part: str, alleles: dict[str, Any]) -> tuple[float, bool] | None:
    """Activity of one gene copy or duplication (``*10``, ``*36x2``, ``*2x≥3``); None if unknown.

    Returns (activity, lower_bound): ``x≥3`` counts three copies and marks the score as a minimum.
    """
    row = alleles.get(part)
    if row is not None and row.get("activity") not in (None, "n/a"):
        return float(row["activity"]), "≥" in part
    m = re.fullmatch(r"(\*[0-9.]+)x(≥?)(\d+)", part)
    if m is None:
        return None
    base = alleles.get(m.group(1))
    if base is None or base.get("activity") in (None, "n/a"):
        return None
    return float(base["activity"]) * int(m.group(3)), bool(m.group(2))


def cyp2d6_structural(diplotype: str) -> Phenotype | None:
    """CYP2D6 with duplications or tandem hybrids (``*1/*36x2+*10``) scored by CPIC's rules.

    Why: CPIC's diplotype table lists only simple duplications, yet outside callers (Aldy,
    StellarPGx, Cyrius) report tandem arrangements. CPIC's activity-score system adds the activity
    value of every copy on a haplotype (``*36`` no function = 0, ``*10`` = 0.25; a duplicated allele
    counts once per copy), sums both haplotypes, and maps the score to a phenotype (0 poor,
    0.25-1 intermediate, 1.25-2.25 normal, >2.25 ultrarapid). None when a copy has no CPIC value.
    """
    alleles = load_phenotype_tables().get("CYP2D6", {}).get("alleles", {})
    total = 0.0
    lower = False
    funcs = []
    for hap in diplotype.split("/"):
        for part in (x.strip() for x in hap.split("+")):
            got = _copy_activity(part, alleles)
            if got is None:
                return None
            total += got[0]
            lower = lower or got[1]
            row = alleles.get(part, {})
            funcs.append(AlleleFunction(part, row.get("function"), f"{got[0]:g}"))
    pheno = next(ph for lo, hi, ph in CYP2D6_SCORE_BANDS if total <= hi and total >= lo - 0.125)
    score = f"{total:.2f}".rstrip("0").rstrip(".")
    score = score if "." in score else f"{score}.0"
    if lower:
        pheno = "Ultrarapid Metabolizer" if total > 2.25 else pheno
    return Phenotype(
        "CYP2D6",
        diplotype,
        pheno,
        score,
        score,
        funcs,
        note="CPIC activity score: the activity values of every copy on each haplotype are added"
        + (" (≥3 copies counted as 3: the score is a minimum)" if lower else ""),
    )


def _strand_parts(name: str) -> list[str]:
    return [x.strip() for x in name.strip("[]").split(" + ")] if name.startswith("[") else [name]


def _dpyd_combination(diplotype: str, tab: dict[str, Any]) -> Phenotype | None:
    """CPIC DPYD: a haplotype carrying several variants takes the lowest activity value among them.

    The activity score is the sum over the two haplotypes and maps to the phenotype CPIC's table
    gives that score (0-0.5 poor, 1-1.5 intermediate, 2 normal). A partial (unnamed) variant has no
    activity value, so the call stays Indeterminate.
    """
    strands = diplotype.split("/")
    values = []
    funcs = []
    for strand in strands:
        acts = []
        for part in _strand_parts(strand):
            row = tab["alleles"].get(part)
            if row is None or row.get("activity") in (None, "n/a"):
                return None
            acts.append(float(row["activity"]))
            funcs.append(AlleleFunction(part, row.get("function"), row.get("activity")))
        values.append(min(acts))
    score = f"{sum(values):.1f}"
    by_score = {r[1]: r[0] for r in tab["diplotypes"].values()}
    if score not in by_score:
        return None
    return Phenotype(
        "DPYD",
        diplotype,
        by_score[score],
        score,
        score,
        funcs,
        note="CPIC DPYD rule: a haplotype with several variants takes its lowest activity value",
    )


def phenotype_call(call: GeneCall) -> Phenotype:
    """Phenotype of a gene call's preferred diplotype; ties with different phenotypes are flagged."""
    if not call.diplotypes:
        p = phenotype_for(call.gene, None)
        p.note = f"gene {call.status}"
        return p
    p = phenotype_for(call.gene, call.diplotypes[0].name)
    others = {phenotype_for(call.gene, d.name).phenotype for d in call.diplotypes[1:]}
    if others - {p.phenotype}:
        p.note = (
            "tied diplotypes imply different phenotypes ("
            + ", ".join(sorted(others | {p.phenotype}))
            + "); phasing or an orthogonal assay would resolve it"
        )
    return p


def _rule_phenotype(gene: str, diplotype: str, rule: str, funcs: list[AlleleFunction]) -> Phenotype:
    """CPIC's rule-based phenotypes (G6PD 2022 guideline; RYR1/CACNA1S 2018 guideline).

    G6PD: WHO class I = deficient with chronic non-spherocytic haemolytic anaemia (CNSHA), II/III =
    deficient, IV = normal; one normal and one deficient allele (a heterozygous female) = Variable.
    A diploid call is read as female; a haploid (hemizygous) call as male. RYR1: any allele
    associated with malignant hyperthermia gives Malignant Hyperthermia Susceptibility, otherwise
    Uncertain Susceptibility (a negative test never rules MHS out).
    """
    fs = [f.function or "" for f in funcs]
    if any(not f or "Unknown" in f or "Uncertain Function" == f for f in fs) and rule == "g6pd":
        return _indeterminate(gene, diplotype, funcs, "an allele of unknown function")
    if rule == "mhs":
        if any(not f for f in fs) and not any("Malignant Hyperthermia" in f for f in fs):
            return _indeterminate(gene, diplotype, funcs, "an allele whose MHS association is not in the shipped table")
        pheno = (
            "Malignant Hyperthermia Susceptibility"
            if any("Malignant Hyperthermia" in f for f in fs)
            else "Uncertain Susceptibility"
        )
        return Phenotype(gene, diplotype, pheno, None, pheno, funcs)
    normal = [("IV" in f or "Normal" in f) for f in fs]
    if all(normal):
        pheno = "Normal"
    elif len(fs) == 2 and any(normal):
        pheno = "Variable"
    elif any("Class I " in f or f.startswith("Class I (") for f in fs):
        pheno = "Deficient with CNSHA"
    else:
        pheno = "Deficient"
    return Phenotype(
        gene, diplotype, pheno, None, pheno, funcs, note="CPIC G6PD rule over WHO classes; diploid call read as female"
    )
