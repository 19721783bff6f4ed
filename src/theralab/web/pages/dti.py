"""The drug-target page: paste a protein (or pick a training target), paste or upload molecules,
and see them ranked by predicted affinity with the ensemble spread and the applicability-domain
flag, a chart of affinity against nearest-training-drug similarity, and a CSV download."""

from __future__ import annotations

import base64
import math
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from theralab.errors import InputError, TheralabError
from theralab.privacy.auth import require_role
from theralab.web.pages import WebUser, pasted_molecules
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("dti")
UPLOAD_LIMIT = 2000
#: Filled in on a first visit: three ABL1 inhibitors and a non-binder against ABL1 (a Davis kinase target).
EXAMPLE_TARGET = "ABL1"
EXAMPLE_MOLECULES = ("Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1 imatinib\n"
                     "Cc1nc(Nc2ncc(C(=O)Nc3c(C)cccc3Cl)s2)cc(N2CCN(CCO)CC2)n1 dasatinib\n"
                     "Cc1ccc(C(=O)Nc2ccc(CN3CCN(C)CC3)c(C(F)(F)F)c2)cc1C#Cc1cnc2cccnn12 ponatinib\n"
                     "CC(=O)Oc1ccccc1C(=O)O aspirin")


def _models() -> list[dict[str, Any]]:
    from theralab.models.registry import list_models

    return [m for m in list_models() if m.get("task") == "dti-regression"]


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and math.isfinite(float(v)) else None


async def _molecules(text: str, upload: UploadFile | None) -> tuple[list[str], list[str]]:
    if upload is None or not upload.filename:
        return pasted_molecules(text)
    from theralab.chem.io import MoleculeReader

    content = await upload.read(20 * 1024 * 1024 + 1)
    if len(content) > 20 * 1024 * 1024:
        raise InputError("the upload is over 20 MB", where="upload", hint="use 'theralab dti predict' for libraries")
    suffix = Path(upload.filename).suffix.lower()
    suffix = suffix if suffix in (".smi", ".txt", ".csv", ".tsv", ".sdf", ".parquet", ".ism") else ".smi"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        records = list(MoleculeReader(path))
    if len(records) > UPLOAD_LIMIT:
        raise InputError(f"{len(records)} molecules; the page ranks at most {UPLOAD_LIMIT}",
                         hint="use 'theralab dti predict' or a screening run")
    return [r.smiles for r in records], [r.id for r in records]


def _chart(rows: list[dict[str, Any]], unit: str) -> dict[str, Any]:
    """Predicted affinity (± ensemble spread) against similarity to the nearest training drug, by domain."""
    from theralab.web.charts import axis, chart_spec

    ok = [r for r in rows if r["affinity"] is not None]
    traces = []
    for flag, name, colour in ((True, "in domain", "#2e8b57"), (False, "outside domain", "#d9730d")):
        part = [r for r in ok if bool(r["in_domain"]) is flag]
        if part:
            traces.append({"type": "scatter", "mode": "markers", "name": name, "marker": {"color": colour, "size": 9},
                           "x": [r["drug_similarity"] for r in part], "y": [r["affinity"] for r in part],
                           "text": [str(r["id"]) for r in part],
                           "error_y": {"type": "data", "visible": True,
                                       "array": [r["affinity_std"] or 0 for r in part]},
                           "hovertemplate": "%{text}: %{y:.2f} ± %{error_y.array:.2f}<extra></extra>"})
    return chart_spec("Predicted affinity vs similarity to the nearest training drug",
                      axis("Tanimoto similarity to nearest training drug (0–1)"), axis("Predicted affinity", unit),
                      traces, download="dti_affinity.csv")


@router.get("/dti", response_class=HTMLResponse)
def dti_page(request: Request, user: WebUser) -> HTMLResponse:
    require_role(set(user.roles), "researcher", "clinician")
    models = _models()
    return render(request, "dti.html", {"models": models, "model": models[0]["name"] if models else "",
                                        "sequence": "", "target_id": EXAMPLE_TARGET, "text": EXAMPLE_MOLECULES,
                                        "rows": None, "problem": None})


@router.post("/dti", response_class=HTMLResponse)
async def dti_rank(request: Request, user: WebUser, model: str = Form(""), sequence: str = Form(""),
                   target_id: str = Form(""), text: str = Form(""),
                   upload: UploadFile | None = File(None)) -> HTMLResponse:
    from theralab.discovery.dti import load_dti, read_fasta_or_sequence
    from theralab.models.registry import find_model

    require_role(set(user.roles), "researcher", "clinician")
    context: dict[str, Any] = {"models": _models(), "model": model, "sequence": sequence, "target_id": target_id,
                               "text": text, "rows": None, "problem": None}
    try:
        if not model:
            raise InputError("no DTI model is registered", hint="train one: theralab dti train ...")
        dti = load_dti(find_model(model))
        if sequence.strip():
            target_name, seq = read_fasta_or_sequence(sequence)
        elif target_id.strip():
            ids = dti.domain.target_ids
            if target_id.strip() not in ids:
                raise InputError(f"{target_id!r} is not a training target of {model}", where="target_id",
                                 hint=f"e.g. {', '.join(ids[:5])}")
            target_name, seq = target_id.strip(), dti.domain.targets[ids.index(target_id.strip())]
        elif dti.target:
            target_name, seq = dti.target["name"], dti.target["sequence"]
        else:
            raise InputError("paste a protein sequence or give a training target id", where="sequence")
        smiles, mol_ids = await _molecules(text, upload)
        table = dti.rank(seq, smiles, mol_ids)
    except TheralabError as exc:
        context["problem"] = str(exc)
        return render(request, "dti.html", context, status_code=422 if isinstance(exc, InputError) else 404)
    spread = len(dti.members) > 1  # one member has no spread: show "—", not a misleading 0
    rows = [{**rec, "affinity": _num(rec["affinity"]), "affinity_std": _num(rec["affinity_std"]) if spread else None,
             "drug_similarity": _num(rec["drug_similarity"]), "target_similarity": _num(rec["target_similarity"])}
            for rec in table.to_dict(orient="records")]
    chart = _chart(rows, dti.unit)
    csv_uri = "data:text/csv;base64," + base64.b64encode(table.to_csv(index=False).encode()).decode()
    context.update(rows=rows, target_name=target_name, target_length=len(seq), unit=dti.unit,
                   affinity_chart=chart, csv_uri=csv_uri, members=len(dti.members),
                   thresholds=(dti.domain.drug_threshold, dti.domain.target_threshold))
    return render(request, "dti.html", context)
