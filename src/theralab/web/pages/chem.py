"""The molecule page: paste or upload molecules, see structures, properties, rules and alerts.

Up to 1,000 molecules are profiled inline; a larger upload becomes a ``chem.profile`` job and the
browser is sent to its live progress page.
"""

from __future__ import annotations

import base64
import io

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from theralab.errors import InputError
from theralab.web.pages import WebUser, pasted_molecules, start_upload_job
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("chem")

#: Shown descriptors: (column, header, unit, significant figures).
SHOWN = [("mw", "MW", "Da", 5), ("clogp", "cLogP", "", 3), ("tpsa", "TPSA", "Å²", 4), ("hbd", "HBD", "", 3),
         ("hba", "HBA", "", 3), ("rotatable_bonds", "Rotatable bonds", "", 3), ("fraction_sp3", "Fsp³", "", 2),
         ("qed", "QED", "", 2), ("sa_score", "SA score", "1 easy – 10 hard", 3)]
#: Structure pictures: the size of the stylesheet's `.structure` box, so every structure is drawn the same size.
STRUCTURE = (160, 120)
#: Filled in on a first visit, so pressing Profile shows what the page does.
EXAMPLE = "CC(=O)Oc1ccccc1C(=O)O aspirin\nCn1cnc2c1c(=O)n(C)c(=O)n2C caffeine\nCC(=O)Nc1ccc(O)cc1 paracetamol"
RULES = ["lipinski", "veber", "ghose", "egan", "leadlike"]


@router.get("/chem", response_class=HTMLResponse)
def chem_page(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "chem.html", {"text": EXAMPLE, "rows": None, "errors": [], "problem": None})


@router.post("/chem", response_class=HTMLResponse)
async def chem_profile(
    request: Request,
    user: WebUser,
    text: str = Form(""),
    upload: UploadFile | None = File(None),
    standardize: bool = Form(False),
) -> Response:
    from theralab.chem.depict import mol_to_svg
    from theralab.chem.profile import profile_smiles

    try:
        if upload is not None and upload.filename:
            return await start_upload_job(user, upload, "chem.profile", {"standardize": standardize}, ".profile.csv")
        smiles, ids = pasted_molecules(text)
        df, err = profile_smiles(smiles, ids, standardize=standardize)
    except InputError as exc:
        return render(request, "chem.html", {"text": text, "rows": None, "errors": [], "problem": str(exc)},
                      status_code=422)
    rows = []
    for record in df.to_dict("records"):
        record["svg"] = mol_to_svg(record["smiles"], width=STRUCTURE[0], height=STRUCTURE[1])
        rows.append(record)
    buffer = io.StringIO()
    df.to_csv(buffer, index=False)
    csv_uri = "data:text/csv;base64," + base64.b64encode(buffer.getvalue().encode()).decode()
    return render(request, "chem.html", {
        "text": text, "rows": rows, "errors": err.to_dict("records"), "problem": None,
        "shown": SHOWN, "rules": RULES, "csv_uri": csv_uri,
    })
