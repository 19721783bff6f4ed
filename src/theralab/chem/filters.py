"""Drug-likeness rule sets and structural alerts.

Rule sets are data (:data:`RULE_SETS`), evaluated column-wise on the descriptor table from
:mod:`theralab.chem.descriptors`, so a batch of any size costs a few numpy comparisons. logP is
always Wildman-Crippen cLogP (the papers used CLOGP, MLOGP or ALOGP; Crippen is what RDKit has),
so borderline compounds can differ from tools that use another logP.

=============  ===================================================================  ==========
rule set       criteria (a molecule *violates* a criterion when outside it)          passes if
=============  ===================================================================  ==========
lipinski       MW <= 500, cLogP <= 5, NH+OH <= 5, N+O <= 10                          <= 1 violation
               (Lipinski et al., Adv Drug Deliv Rev 1997, 23, 3-25)
veber          rotatable bonds <= 10, TPSA <= 140                                    0 violations
               (Veber et al., J Med Chem 2002, 45, 2615-2623)
ghose          160 <= MW <= 480, -0.4 <= cLogP <= 5.6, 40 <= MR <= 130,             0 violations
               20 <= atoms (incl. H) <= 70 (Ghose et al., J Comb Chem 1999, 1, 55-68)
egan           cLogP <= 5.88, TPSA <= 131.6                                          0 violations
               (Egan et al., J Med Chem 2000, 43, 3867-3877)
leadlike       250 <= MW <= 350, cLogP <= 3.5, rotatable bonds <= 7                  0 violations
               (Teague et al., Angew Chem Int Ed 1999, 38, 3743; thresholds as in
               SwissADME, Daina et al., Sci Rep 2017, 7, 42717)
=============  ===================================================================  ==========

Structural alerts come from RDKit's FilterCatalog: PAINS families A, B and C (Baell & Holloway,
J Med Chem 2010, 53, 2719), Brenk (Brenk et al., ChemMedChem 2008, 3, 435) and NIH (Jadhav et al.,
J Med Chem 2010, 53, 37; Doveston et al., 2015). Catalogues are built once per process and reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

from theralab.errors import InputError


@dataclass(frozen=True)
class Criterion:
    """One bound on one descriptor: ``lo <= descriptor <= hi`` (either bound may be ``None``)."""

    descriptor: str
    lo: float | None = None
    hi: float | None = None

    @property
    def label(self) -> str:
        """Short text naming the bound, e.g. ``mw<=500`` or ``160<=mw<=480``."""
        if self.lo is not None and self.hi is not None:
            return f"{self.lo:g}<={self.descriptor}<={self.hi:g}"
        if self.hi is not None:
            return f"{self.descriptor}<={self.hi:g}"
        return f"{self.descriptor}>={self.lo:g}"

    def violated(self, values: np.ndarray) -> np.ndarray:
        """Boolean array: where ``values`` fall outside the bound."""
        bad = np.zeros(len(values), dtype=bool)
        if self.lo is not None:
            bad |= values < self.lo
        if self.hi is not None:
            bad |= values > self.hi
        return bad


@dataclass(frozen=True)
class RuleSet:
    """A named drug-likeness rule set with its source and the violations it tolerates."""

    name: str
    criteria: tuple[Criterion, ...]
    max_violations: int
    source: str


RULE_SETS: tuple[RuleSet, ...] = (
    RuleSet(
        "lipinski",
        (
            Criterion("mw", hi=500),
            Criterion("clogp", hi=5),
            Criterion("hbd_lipinski", hi=5),
            Criterion("hba_lipinski", hi=10),
        ),
        1,
        "Lipinski et al., Adv Drug Deliv Rev 1997, 23, 3-25",
    ),
    RuleSet(
        "veber",
        (Criterion("rotatable_bonds", hi=10), Criterion("tpsa", hi=140)),
        0,
        "Veber et al., J Med Chem 2002, 45, 2615-2623",
    ),
    RuleSet(
        "ghose",
        (
            Criterion("mw", 160, 480),
            Criterion("clogp", -0.4, 5.6),
            Criterion("mr", 40, 130),
            Criterion("atoms", 20, 70),
        ),
        0,
        "Ghose et al., J Comb Chem 1999, 1, 55-68",
    ),
    RuleSet(
        "egan",
        (Criterion("clogp", hi=5.88), Criterion("tpsa", hi=131.6)),
        0,
        "Egan et al., J Med Chem 2000, 43, 3867-3877",
    ),
    RuleSet(
        "leadlike",
        (Criterion("mw", 250, 350), Criterion("clogp", hi=3.5), Criterion("rotatable_bonds", hi=7)),
        0,
        "Teague et al., Angew Chem Int Ed 1999, 38, 3743; SwissADME thresholds (Daina 2017)",
    ),
)
RULE_SET_NAMES: tuple[str, ...] = tuple(r.name for r in RULE_SETS)


def rule_columns(names: Iterable[str] = RULE_SET_NAMES) -> list[str]:
    """The output column names :func:`evaluate_rules` produces, in order."""
    return [f"{n}_{suffix}" for n in names for suffix in ("pass", "violations", "failed")]


def evaluate_rules(descriptors: pd.DataFrame, names: Sequence[str] = RULE_SET_NAMES) -> pd.DataFrame:
    """Evaluate rule sets on a descriptor table, column-wise.

    Args:
        descriptors: a table with the descriptor columns the rules need (from
            :func:`theralab.chem.descriptors.compute_descriptors`).
        names: which rule sets to evaluate.

    Returns:
        For each rule set ``<name>_pass`` (bool), ``<name>_violations`` (int) and
        ``<name>_failed`` (the violated criteria joined by ``"; "``, empty when none).

    Raises:
        InputError: an unknown rule set, or a descriptor column is missing.
    """
    by_name = {r.name: r for r in RULE_SETS}
    out: dict[str, object] = {}
    n = len(descriptors)
    for name in names:
        rule = by_name.get(name)
        if rule is None:
            raise InputError(f"unknown rule set '{name}'", hint=f"choose from {', '.join(RULE_SET_NAMES)}")
        count = np.zeros(n, dtype=np.int64)
        flags = []
        for crit in rule.criteria:
            if crit.descriptor not in descriptors:
                raise InputError(f"rule set '{name}' needs descriptor '{crit.descriptor}'")
            bad = crit.violated(descriptors[crit.descriptor].to_numpy(dtype=float))
            count += bad
            flags.append((bad, crit.label))
        failed = [""] * n
        for idx in np.flatnonzero(count):
            failed[idx] = "; ".join(label for bad, label in flags if bad[idx])
        out[f"{name}_pass"] = count <= rule.max_violations
        out[f"{name}_violations"] = count
        out[f"{name}_failed"] = failed
    return pd.DataFrame(out, index=descriptors.index)


# ---------------------------------------------------------------------------------------------
# structural alerts
# ---------------------------------------------------------------------------------------------
ALERT_CATALOGS: tuple[str, ...] = ("PAINS_A", "PAINS_B", "PAINS_C", "BRENK", "NIH")


@dataclass(frozen=True)
class Alert:
    """One structural-alert match: which catalogue, which alert, and (optionally) the atoms hit."""

    catalog: str
    description: str
    atoms: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"catalog": self.catalog, "description": self.description, "atoms": list(self.atoms)}

    def __str__(self) -> str:
        return f"{self.catalog}:{self.description}"


@lru_cache(maxsize=16)
def alert_catalog(catalogs: tuple[str, ...] = ALERT_CATALOGS) -> FilterCatalog:
    """Build (once per process and catalogue set) the RDKit FilterCatalog for ``catalogs``.

    Raises:
        InputError: an unknown catalogue name.
    """
    params = FilterCatalogParams()
    for name in catalogs:
        member = getattr(FilterCatalogParams.FilterCatalogs, name.upper(), None)
        if member is None or name.upper() not in ALERT_CATALOGS:
            raise InputError(f"unknown alert catalogue '{name}'", hint=f"choose from {', '.join(ALERT_CATALOGS)}")
        params.AddCatalog(member)
    return FilterCatalog(params)


def find_alerts(mol: Chem.Mol, catalogs: Sequence[str] = ALERT_CATALOGS, *, with_atoms: bool = False) -> list[Alert]:
    """All structural alerts matching ``mol``, in catalogue order.

    Args:
        mol: a sanitised molecule.
        catalogs: catalogue names from :data:`ALERT_CATALOGS`.
        with_atoms: also report the matched atom indices (one extra substructure search per hit).
    """
    catalog = alert_catalog(tuple(catalogs))
    alerts = []
    for entry in catalog.GetMatches(mol):
        atoms: tuple[int, ...] = ()
        if with_atoms:
            hit = set()
            for fm in entry.GetFilterMatches(mol):
                hit.update(j for _i, j in fm.atomPairs)
            atoms = tuple(sorted(hit))
        alerts.append(Alert(entry.GetProp("FilterSet").upper(), entry.GetDescription(), atoms))
    return alerts


def alerts_text(alerts: Sequence[Alert]) -> str:
    """Alerts as one table cell: ``CATALOG:description`` joined by ``"; "``."""
    return "; ".join(str(a) for a in alerts)


def parse_alerts_text(text: str) -> list[Alert]:
    """Inverse of :func:`alerts_text` (atoms are not kept in the text form)."""
    if not text:
        return []
    out = []
    for part in text.split("; "):
        catalog, _, description = part.partition(":")
        out.append(Alert(catalog, description))
    return out
