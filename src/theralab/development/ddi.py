"""CYP-mediated drug-drug interactions: FDA basic static models and the mechanistic static model.

Why static models: they are what the FDA's January 2020 guidance *In Vitro Drug Interaction Studies
- Cytochrome P450 Enzyme- and Transporter-Mediated Drug Interactions* asks a sponsor to compute
first, to decide whether a clinical DDI study is needed. Formulas (concentrations unbound, in uM;
rate constants in 1/h):

* Reversible inhibition: R1 = 1 + Imax,u / Ki,u, flag at R1 >= 1.02; for oral CYP3A inhibitors
  also R1,gut = 1 + Igut / Ki,u with Igut = dose / 250 mL, flag at >= 11.
* Time-dependent inhibition: R2 = (kobs + kdeg) / kdeg, kobs = kinact x 5 Imax,u / (KI,u + 5 Imax,u),
  flag at R2 >= 1.25.
* Induction: R3 = 1 / (1 + d x Emax x 10 Imax,u / (EC50 + 10 Imax,u)), d = 1, flag at R3 <= 0.8.
* Mechanistic static model (Fahmi et al., Drug Metab Dispos 2009;37:1658; guidance appendix):
  AUCR = 1 / (Ag Bg Cg (1 - Fg) + Fg) x 1 / (Ah Bh Ch fm + (1 - fm)), with A = TDI
  kdeg / (kdeg + kinact [I] / ([I] + KI)), B = induction 1 + d Emax [I] / ([I] + EC50),
  C = reversible 1 / (1 + [I] / Ki); gut terms apply to CYP3A only. Flag AUCR >= 1.25 (inhibition)
  or <= 0.8 (induction).

The curated table (:data:`PERPETRATORS`, :data:`VICTIMS`) holds rounded literature values for a
few textbook drugs so a medication list can be screened pairwise; each entry names its source.
It is a teaching and screening aid, not a clinical decision tool: users can pass their own table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import permutations
from pathlib import Path
from typing import Any

from theralab.errors import InputError, NotFoundError

R1_CUTOFF = 1.02
R1_GUT_CUTOFF = 11.0
R2_CUTOFF = 1.25
R3_CUTOFF = 0.8
AUCR_INHIBITION = 1.25
AUCR_INDUCTION = 0.8
KDEG_LIVER = {"CYP3A4": 0.0193, "CYP2D6": 0.0226, "CYP2C9": 0.0067, "CYP2C19": 0.0267, "CYP1A2": 0.0183}
KDEG_GUT_CYP3A = 0.03  # 1/h, as used in Fahmi et al. 2009 and Simcyp defaults
Q_ENT = 18.0  # L/h, enterocyte blood flow (Yang et al. 2007), for [I]gut = Fa ka Dose / Qent


def _pos(name: str, value: float | None, allow_none: bool = True) -> None:
    if value is None:
        if not allow_none:
            raise InputError(f"{name} is required", where=name)
        return
    if not value > 0:
        raise InputError(f"{name} must be > 0, got {value}", where=name)


def r1(imax_u: float, ki_u: float) -> float:
    """Basic model, reversible inhibition (liver): R1 = 1 + Imax,u / Ki,u."""
    _pos("imax_u", imax_u, False)
    _pos("ki_u", ki_u, False)
    return 1.0 + imax_u / ki_u


def igut_um(dose_mg: float, mw: float) -> float:
    """Intestinal concentration for the basic model, Igut = molar dose / 250 mL (in uM)."""
    _pos("dose_mg", dose_mg, False)
    _pos("mw", mw, False)
    return dose_mg / mw / 0.25 * 1000.0


def r2(imax_u: float, ki_u: float, kinact: float, kdeg: float) -> float:
    """Basic model, time-dependent inhibition: R2 = (kobs + kdeg)/kdeg, kobs at 5 x Imax,u."""
    for n, v in (("imax_u", imax_u), ("KI_u", ki_u), ("kinact", kinact), ("kdeg", kdeg)):
        _pos(n, v, False)
    kobs = kinact * 5.0 * imax_u / (ki_u + 5.0 * imax_u)
    return (kobs + kdeg) / kdeg


def r3(imax_u: float, emax: float, ec50_u: float, d: float = 1.0) -> float:
    """Basic model, induction: R3 = 1 / (1 + d Emax 10 Imax,u / (EC50 + 10 Imax,u))."""
    for n, v in (("imax_u", imax_u), ("emax", emax), ("ec50_u", ec50_u), ("d", d)):
        _pos(n, v, False)
    return 1.0 / (1.0 + d * emax * 10.0 * imax_u / (ec50_u + 10.0 * imax_u))


@dataclass(frozen=True)
class Perpetrator:
    """In vitro interaction parameters of one drug on one enzyme (unbound concentrations, uM)."""

    drug: str
    enzyme: str
    imax_u: float
    ki_u: float | None = None
    kinact: float | None = None  # 1/h
    KI_u: float | None = None  # noqa: N815 - the guidance's symbol
    emax: float | None = None
    ec50_u: float | None = None
    dose_mg: float | None = None
    mw: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        _pos("imax_u", self.imax_u, False)
        for n in ("ki_u", "kinact", "KI_u", "emax", "ec50_u", "dose_mg", "mw"):
            _pos(n, getattr(self, n))
        if (self.kinact is None) != (self.KI_u is None):
            raise InputError("time-dependent inhibition needs both kinact and KI_u", where=self.drug)
        if (self.emax is None) != (self.ec50_u is None):
            raise InputError("induction needs both emax and ec50_u", where=self.drug)


@dataclass(frozen=True)
class Victim:
    """A substrate: fraction of its clearance by ``enzyme`` (fm) and its gut availability Fg."""

    drug: str
    enzyme: str
    fm: float
    fg: float = 1.0
    source: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.fm <= 1 or not 0 < self.fg <= 1:
            raise InputError("fm must be in [0, 1] and Fg in (0, 1]", where=self.drug)


@dataclass
class BasicModel:
    """The basic-model R values of one perpetrator on one enzyme, with the FDA flags."""

    drug: str
    enzyme: str
    r1: float | None = None
    r1_gut: float | None = None
    r2: float | None = None
    r3: float | None = None
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


def basic_model(p: Perpetrator) -> BasicModel:
    """All applicable basic static model values for one perpetrator, flagged at FDA cut-offs."""
    out = BasicModel(p.drug, p.enzyme)
    if p.ki_u is not None:
        out.r1 = r1(p.imax_u, p.ki_u)
        if out.r1 >= R1_CUTOFF:
            out.flags.append(f"R1 {out.r1:.3g} >= {R1_CUTOFF}")
        if p.enzyme == "CYP3A4" and p.dose_mg and p.mw:
            out.r1_gut = 1.0 + igut_um(p.dose_mg, p.mw) / p.ki_u
            if out.r1_gut >= R1_GUT_CUTOFF:
                out.flags.append(f"R1,gut {out.r1_gut:.3g} >= {R1_GUT_CUTOFF}")
    if p.kinact is not None and p.KI_u is not None:
        out.r2 = r2(p.imax_u, p.KI_u, p.kinact, KDEG_LIVER.get(p.enzyme, 0.0193))
        if out.r2 >= R2_CUTOFF:
            out.flags.append(f"R2 {out.r2:.3g} >= {R2_CUTOFF}")
    if p.emax is not None and p.ec50_u is not None:
        out.r3 = r3(p.imax_u, p.emax, p.ec50_u)
        if out.r3 <= R3_CUTOFF:
            out.flags.append(f"R3 {out.r3:.3g} <= {R3_CUTOFF}")
    return out


def _terms(p: Perpetrator, conc: float, kdeg: float) -> tuple[float, float, float]:
    """(A TDI, B induction, C reversible) at unbound concentration ``conc``."""
    a = kdeg / (kdeg + p.kinact * conc / (conc + p.KI_u)) if p.kinact and p.KI_u else 1.0
    b = 1.0 + p.emax * conc / (conc + p.ec50_u) if p.emax and p.ec50_u else 1.0
    c = 1.0 / (1.0 + conc / p.ki_u) if p.ki_u else 1.0
    return a, b, c


def mechanistic_aucr(
    p: Perpetrator,
    fm: float,
    fg: float = 1.0,
    i_hep: float | None = None,
    i_gut: float | None = None,
    ka: float = 6.0,
    fa: float = 1.0,
) -> float:
    """Mechanistic static model AUC ratio of a victim (fm, Fg) given perpetrator ``p``.

    ``i_hep`` defaults to Imax,u; ``i_gut`` (CYP3A4 only) defaults to Fa ka Dose / Qent when the dose
    and molecular weight are known (ka 0.1 /min = 6 /h, Fa 1: the guidance's defaults), else the
    gut term is 1 (no gut interaction assumed).
    """
    if not 0 <= fm <= 1 or not 0 < fg <= 1:
        raise InputError("fm must be in [0, 1] and Fg in (0, 1]", where="mechanistic_aucr")
    ih = p.imax_u if i_hep is None else i_hep
    a, b, c = _terms(p, ih, KDEG_LIVER.get(p.enzyme, 0.0193))
    liver = 1.0 / (a * b * c * fm + (1.0 - fm))
    gut = 1.0
    if p.enzyme == "CYP3A4" and fg < 1.0:
        if i_gut is None and p.dose_mg and p.mw:
            i_gut = fa * ka * (p.dose_mg / p.mw * 1000.0) / Q_ENT  # umol/h / (L/h) = uM
        if i_gut is not None:
            ag, bg, cg = _terms(p, i_gut, KDEG_GUT_CYP3A)
            gut = 1.0 / (ag * bg * cg * (1.0 - fg) + fg)
    return liver * gut


# ---------------------------------------------------------------- curated table
# Rounded literature values. Unbound concentrations in uM, kinact in 1/h. Sources name the study or
# compilation each number comes from; verify against them before any use beyond screening.
_FAHMI = "Fahmi et al., Drug Metab Dispos 2009;37:1658 (table of inhibitor/inducer inputs)"
PERPETRATORS: list[Perpetrator] = [
    Perpetrator(
        "ketoconazole",
        "CYP3A4",
        imax_u=0.08,
        ki_u=0.015,
        dose_mg=400,
        mw=531.4,
        source=f"{_FAHMI}; Ki,u from human liver microsome midazolam assays",
    ),
    Perpetrator(
        "itraconazole",
        "CYP3A4",
        imax_u=0.0057,
        ki_u=0.0013,
        dose_mg=200,
        mw=705.6,
        source="Isoherranen et al., Drug Metab Dispos 2004;32:1121 (Ki,u 1.3 nM)",
    ),
    Perpetrator(
        "clarithromycin",
        "CYP3A4",
        imax_u=1.0,
        KI_u=5.5,
        kinact=4.3,
        dose_mg=500,
        mw=748.0,
        source="Ito et al., Drug Metab Dispos 2003;31:945 (KI 5.5 uM, kinact 0.072/min); Imax,u approx",
    ),
    Perpetrator(
        "fluconazole",
        "CYP2C9",
        imax_u=25.0,
        ki_u=7.0,
        source="Kunze et al., Drug Metab Dispos 1996;24:414 (Ki ~7 uM); Cmax 200 mg, fu 0.89",
    ),
    Perpetrator(
        "fluconazole",
        "CYP3A4",
        imax_u=25.0,
        ki_u=10.0,
        dose_mg=200,
        mw=306.3,
        source="Obach et al., J Pharmacol Exp Ther 2006;316:336; Cmax 200 mg, fu 0.89",
    ),
    Perpetrator(
        "fluvoxamine",
        "CYP1A2",
        imax_u=0.035,
        ki_u=0.004,
        source="Obach et al., J Pharmacol Exp Ther 2006;316:336 (potent CYP1A2 inhibitor)",
    ),
    Perpetrator(
        "quinidine",
        "CYP2D6",
        imax_u=1.0,
        ki_u=0.02,
        source="Obach et al., J Pharmacol Exp Ther 2006;316:336 (CYP2D6 Ki ~0.02 uM)",
    ),
    Perpetrator(
        "paroxetine",
        "CYP2D6",
        imax_u=0.01,
        ki_u=0.15,
        KI_u=0.3,
        kinact=10.0,
        source="Bertelsen et al., Drug Metab Dispos 2003;31:289 (mechanism-based, kinact ~0.17/min)",
    ),
    Perpetrator(
        "rifampicin",
        "CYP3A4",
        imax_u=2.0,
        emax=15.0,
        ec50_u=0.3,
        source=f"{_FAHMI}; hepatocyte induction Emax ~15-fold, EC50 ~0.3 uM",
    ),
    Perpetrator(
        "carbamazepine",
        "CYP3A4",
        imax_u=9.0,
        emax=8.0,
        ec50_u=20.0,
        source=f"{_FAHMI}; approximate hepatocyte induction parameters",
    ),
]
VICTIMS: list[Victim] = [
    Victim("midazolam", "CYP3A4", fm=0.93, fg=0.51, source=f"{_FAHMI}; Fg from Galetin et al. 2008"),
    Victim(
        "simvastatin",
        "CYP3A4",
        fm=0.95,
        fg=0.66,
        source="Fahmi et al. 2009; Gertz et al., Drug Metab Dispos 2010",
    ),
    Victim("triazolam", "CYP3A4", fm=0.92, fg=0.75, source="Obach et al. 2006; Fahmi et al. 2009"),
    Victim("tizanidine", "CYP1A2", fm=0.95, source="Obach et al. 2006 (fm CYP1A2 from fluvoxamine DDI)"),
    Victim("theophylline", "CYP1A2", fm=0.85, source="Obach et al. 2006 (approx.)"),
    Victim("desipramine", "CYP2D6", fm=0.85, source="Obach et al. 2006; Ito et al. 2005"),
    Victim("metoprolol", "CYP2D6", fm=0.75, source="Ito et al., Pharmacol Rev 2005 (approx.)"),
    Victim("s-warfarin", "CYP2C9", fm=0.85, source="Obach et al. 2006; Ito et al. 2005"),
]


@dataclass
class PairResult:
    """One perpetrator -> victim pair through one enzyme."""

    perpetrator: str
    victim: str
    enzyme: str
    aucr: float
    flagged: bool
    direction: str
    basic: dict[str, Any]
    sources: list[str]


def check_medications(
    drugs: list[str], perpetrators: list[Perpetrator] | None = None, victims: list[Victim] | None = None
) -> dict[str, Any]:
    """Screen a medication list pairwise (every ordered pair, every shared enzyme).

    Returns ``pairs`` (all pairs that share an enzyme, with the mechanistic AUCR and the flag),
    ``flagged`` (those beyond the FDA cut-offs) and ``unknown`` (names in neither table).

    Raises:
        InputError: fewer than two distinct drugs.
        NotFoundError: none of the drugs is in the table.
    """
    names = list(dict.fromkeys(d.strip().lower() for d in drugs if d and d.strip()))
    if len(names) < 2:
        raise InputError("a medication list needs at least two different drugs", where="drugs")
    # the first entry per (drug, enzyme) wins, so a user's row placed first overrides the curated one
    perps = list({(p.drug.lower(), p.enzyme): p for p in reversed(perpetrators or PERPETRATORS)}.values())
    vics = list({(v.drug.lower(), v.enzyme): v for v in reversed(victims or VICTIMS)}.values())
    known = {p.drug.lower() for p in perps} | {v.drug.lower() for v in vics}
    unknown = [n for n in names if n not in known]
    if len(unknown) == len(names):
        raise NotFoundError(
            f"none of {names} is in the interaction table",
            where="drugs",
            hint=f"known drugs: {sorted(known)}",
        )
    pairs: list[PairResult] = []
    for a, b in permutations(names, 2):
        for p in (p for p in perps if p.drug.lower() == a):
            for v in (v for v in vics if v.drug.lower() == b and v.enzyme == p.enzyme):
                aucr = mechanistic_aucr(p, v.fm, v.fg)
                direction = "increase" if aucr >= 1 else "decrease"
                flagged = aucr >= AUCR_INHIBITION or aucr <= AUCR_INDUCTION
                pairs.append(
                    PairResult(
                        p.drug,
                        v.drug,
                        p.enzyme,
                        aucr,
                        flagged,
                        direction,
                        basic_model(p).to_dict(),
                        [p.source, v.source],
                    )
                )
    pairs.sort(key=lambda r: -abs(r.aucr - 1))
    return {
        "drugs": names,
        "unknown": unknown,
        "pairs": [asdict(r) for r in pairs],
        "flagged": [asdict(r) for r in pairs if r.flagged],
    }


def read_table(path: str | Path) -> tuple[list[Perpetrator], list[Victim]]:
    """Read a user's interaction table (CSV) to use beside or instead of the curated one.

    One row per drug-enzyme entry; a ``role`` column says ``perpetrator`` or ``victim``; the other
    columns are the fields of :class:`Perpetrator` (``drug, enzyme, imax_u, ki_u, kinact, KI_u,
    emax, ec50_u, dose_mg, mw, source``) or :class:`Victim` (``drug, enzyme, fm, fg, source``);
    empty cells mean "not applicable". Every row is validated; errors name the row.
    """
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise InputError(f"interaction table not found: {p}", where=str(p))
    df = pd.read_csv(p)
    for col in ("role", "drug", "enzyme"):
        if col not in df.columns:
            raise InputError(f"interaction table needs a {col!r} column", where=str(p))
    perps: list[Perpetrator] = []
    vics: list[Victim] = []
    pfields = set(Perpetrator.__dataclass_fields__) - {"drug", "enzyme", "source"}
    vfields = {"fm", "fg"}
    for i, row in df.iterrows():
        vals = {k: v for k, v in row.items() if isinstance(k, str) and v == v and v is not None}
        base = {
            "drug": str(vals["drug"]).strip().lower(),
            "enzyme": str(vals["enzyme"]).strip().upper(),
            "source": str(vals.get("source", f"user table {p.name}")),
        }
        try:
            role = str(vals["role"]).strip().lower()
            if role == "perpetrator":
                perps.append(Perpetrator(**base, **{k: float(vals[k]) for k in pfields if k in vals}))
            elif role == "victim":
                vics.append(Victim(**base, **{k: float(vals[k]) for k in vfields if k in vals}))
            else:
                raise InputError(f"role must be 'perpetrator' or 'victim', got {role!r}", where="role")
        except (InputError, TypeError, ValueError) as exc:
            msg = exc.message if isinstance(exc, InputError) else str(exc)
            raise InputError(f"bad interaction-table row: {msg}", where=f"{p.name} row {int(i) + 2}") from exc
    return perps, vics
