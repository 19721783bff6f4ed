"""``/v1/trials``: stateless trial-statistics calculators (any logged-in user).

No patient data pass through these endpoints (design parameters, aggregate study results and
2x2 report counts only), so they need a login but no particular role and write no audit record.
Bad parameters give 422 with ``where`` naming the field (``body.power``).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from theralab.api.encoding import json_safe
from theralab.api.schemas import OpenResult, RequestModel
from theralab.privacy.deps import CurrentUser

router = APIRouter(prefix="/trials", tags=["trials"])

Prob = Field(gt=0, lt=1)


class SampleSizeRequest(RequestModel):
    """Fixed-design sample size; which fields are needed depends on ``endpoint``."""

    endpoint: Literal["means", "proportions", "survival", "noninferiority", "equivalence"]
    alpha: float = Field(0.05, gt=0, lt=1, description="total type I error")
    power: float = Field(0.8, gt=0, lt=1, description="1 - beta")
    sided: Literal[1, 2] = 2
    ratio: float = Field(1.0, gt=0, description="allocation n2/n1")
    delta: float | None = Field(None, description="means: difference to detect")
    sd: float | None = Field(None, gt=0)
    test: Literal["t", "z"] = "t"
    p1: float | None = Field(None, gt=0, lt=1)
    p2: float | None = Field(None, gt=0, lt=1)
    method: str | None = Field(
        None, description="proportions: pooled/unpooled/arcsine/fleiss-cc; survival: schoenfeld/freedman"
    )
    hr: float | None = Field(None, gt=0)
    median_control: float | None = Field(None, gt=0)
    accrual_time: float | None = Field(None, ge=0)
    follow_up: float | None = Field(None, ge=0)
    margin: float | None = Field(None, gt=0)
    true_difference: float = 0.0


@router.post("/design/sample-size", response_model=OpenResult)
def sample_size(req: SampleSizeRequest, user: CurrentUser) -> dict[str, Any]:
    """Sample size per arm (exact and rounded up) and total; events too for survival."""
    from theralab.trials import design as d

    return json_safe(d.sample_size(**req.model_dump()).to_dict())


class GroupSequentialRequest(RequestModel):
    """Group-sequential design; efficacy bounds are z values."""

    k: int = Field(3, ge=1, le=20, description="number of looks")
    kind: Literal["of", "pocock", "hp", "ld-of", "ld-pocock", "hsd", "kd", "user"] = "ld-of"
    alpha: float = Field(0.05, ge=1e-6, le=0.5, description="total type I error (1e-6 to 0.5)")
    beta: float = Field(0.2, ge=1e-6, lt=1)
    sided: Literal[1, 2] = 2
    information_rates: list[float] | None = None
    gamma: float = -4.0
    user_alpha_spent: list[float] | None = None
    futility_z: list[float] | None = Field(None, description="non-binding futility z per interim (or per look)")
    beta_spending: Literal["ld-of", "ld-pocock", "hsd", "kd"] | None = Field(
        None, description="derive non-binding futility bounds by beta spending (sided=1)"
    )
    beta_gamma: float = -4.0
    futility_stops: list[bool] | None = None
    fixed_n_total: float | None = Field(None, gt=0, description="fixed-design N to inflate (optional)")


@router.post("/design/group-sequential", response_model=OpenResult)
def group_sequential(req: GroupSequentialRequest, user: CurrentUser) -> dict[str, Any]:
    """Boundaries, cumulative alpha, inflation factor and expected sample size (relative to fixed)."""
    from theralab.trials.design import group_sequential as gs

    des = gs(
        req.k,
        kind=req.kind,
        alpha=req.alpha,
        beta=req.beta,
        sided=req.sided,
        information_rates=req.information_rates,
        gamma=req.gamma,
        user_alpha_spent=req.user_alpha_spent,
        futility_z=req.futility_z,
        beta_spending=req.beta_spending,
        beta_gamma=req.beta_gamma,
        futility_stops=req.futility_stops,
    )
    out = des.to_dict()
    out["table"] = des.table()
    if req.fixed_n_total:
        out["max_n_total"] = req.fixed_n_total * des.inflation_factor
        out["expected_n_total_h1"] = req.fixed_n_total * des.expected_n_rel_h1
    return json_safe(out)


#: study-table columns a meta-analysis request may carry (the layouts of theralab.trials.meta.inputs)
META_COLUMNS = ("yi", "vi", "ai", "bi", "ci", "di", "m1", "sd1", "n1", "m2", "sd2",
                "n2", "loghr", "se")


class MetaRequest(RequestModel):
    """Study-level data as columns, in any layout the CLI and web page take (see ``docs/trials-statistics.md``):
    ``yi,vi`` (GEN), 2x2 counts ``ai,bi,ci,di`` (RR/OR/RD, also MH and PETO), ``m1,sd1,n1,m2,sd2,n2``
    (MD/SMD) or ``loghr,se`` (HR)."""

    measure: Literal["RR", "OR", "RD", "MD", "SMD", "HR", "GEN"] = "GEN"
    method: Literal["FE", "DL", "REML", "ML", "PM", "HE", "SJ", "HS", "MH", "PETO"] = "REML"
    test: Literal["z", "knha"] = "z"
    level: float = Field(0.95, gt=0, lt=1)
    labels: list[str] | None = None
    yi: list[float] | None = None
    vi: list[float] | None = None
    ai: list[float] | None = None
    bi: list[float] | None = None
    ci: list[float] | None = None
    di: list[float] | None = None
    m1: list[float] | None = None
    sd1: list[float] | None = None
    n1: list[float] | None = None
    m2: list[float] | None = None
    sd2: list[float] | None = None
    n2: list[float] | None = None
    loghr: list[float] | None = None
    se: list[float] | None = None
    continuity: float = Field(0.5, ge=0, description="added to all cells of tables with a zero cell")
    plots: bool = Field(True, description="include plotly forest and funnel figures")

    @model_validator(mode="after")
    def _shape(self) -> MetaRequest:
        given = {c: getattr(self, c) for c in META_COLUMNS if getattr(self, c, None) is not None}
        lengths = {len(v) for v in given.values()} | ({len(self.labels)} if self.labels is not None else set())
        if not given:
            raise ValueError("no study data: give yi,vi or ai,bi,ci,di or m1,sd1,n1,m2,sd2,n2 or loghr,se")
        if len(lengths) > 1:
            raise ValueError("every study column (and labels) must have one value per study")
        return self


@router.post("/meta", response_model=OpenResult)
def meta_analysis(req: MetaRequest, user: CurrentUser) -> dict[str, Any]:
    """Fixed/random-effects pooling (or Mantel-Haenszel/Peto) with heterogeneity, prediction interval and plots."""
    import pandas as pd

    from theralab.trials import meta as m
    from theralab.trials.meta import analyse_table

    table = pd.DataFrame({c: getattr(req, c) for c in META_COLUMNS if getattr(req, c) is not None})
    if req.labels is not None:
        table.insert(0, "label", req.labels)
    outcome = analyse_table(table, req.measure, req.method, test=req.test, level=req.level,
                            label="label" if req.labels is not None else None, continuity=req.continuity)
    es, res = outcome.effects, outcome.result
    out: dict[str, Any] = {
        "result": res.to_dict(),
        "continuity_correction": {"studies": es.corrected if es else [], "rule": outcome.correction},
    }
    if req.plots and es is not None:
        out["forest"] = m.forest_plot(res, level=req.level)
        out["funnel"] = m.funnel_plot(res, level=req.level)
    return json_safe(out)


class Table2x2(BaseModel):
    drug: str | None = None
    event: str | None = None
    a: int = Field(ge=0)
    b: int = Field(ge=0)
    c: int = Field(ge=0)
    d: int = Field(ge=0)


class DisproportionalityRequest(RequestModel):

    tables: list[Table2x2] = Field(min_length=1)
    level: float = Field(0.95, gt=0, lt=1)
    continuity: float = Field(0.5, ge=0)


@router.post("/safety/disproportionality", response_model=OpenResult)
def disproportionality(req: DisproportionalityRequest, user: CurrentUser) -> dict[str, Any]:
    """PRR, ROR, chi-square, IC/IC025 and the Evans signal for each 2x2 table."""
    from theralab.trials.safety.screen import disproportionality as dp

    t = req.tables
    df = dp(
        [x.a for x in t],
        [x.b for x in t],
        [x.c for x in t],
        [x.d for x in t],
        level=req.level,
        add=req.continuity,
    )
    rows = df.to_dict("records")
    for x, r in zip(t, rows, strict=True):
        r["drug"], r["event"] = x.drug, x.event
    return json_safe({"rows": rows, "n_signals": int(df.evans_signal.sum())})
