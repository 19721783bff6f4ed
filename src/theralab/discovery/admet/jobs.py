"""``admet.predict`` as a resumable job: large libraries scored chunk by chunk.

Planning streams the input once (``theralab.chem.io.MoleculeReader``) into ``inputs/<i>.parquet``;
each worker loads the panel (or a user model) once per process and scores its chunks into
``chunks/<i>.parquet``; ``finalize`` joins them in order into the requested output. Rows that
could not be read or scored stay in the output with their ``error``, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow.parquet as pq

from theralab.runtime.jobs import write_parquet_atomic

if TYPE_CHECKING:
    from theralab.chem.io import MolRecord

PANEL = "panel"



def score_records(records: Sequence[MolRecord], model: str = PANEL) -> pd.DataFrame:
    """Score the reader's rows: ``row, id``, the model's columns, the reader's ``error`` where it
    has one, and after it RDKit's ``warnings`` on the row (collected by the reader, never printed).
    """
    scored = score_smiles([r.smiles for r in records], model)
    read_error = pd.Series([r.error or "" for r in records], dtype=object)
    scored["error"] = read_error.where(read_error != "", scored["error"]).to_numpy()
    scored.insert(int(scored.columns.get_loc("error")) + 1, "warnings", [r.warnings for r in records])
    scored.insert(0, "row", [r.row for r in records])
    scored.insert(1, "id", [r.id for r in records])
    return scored


def score_smiles(smiles: list[str], model: str = PANEL) -> pd.DataFrame:
    """Score SMILES with the panel (``model='panel'``) or a trained model (name or directory).

    The models parse and featurise the molecules again; what RDKit says meanwhile is captured, never
    printed (the reader already put each row's warnings in its ``warnings``, see :func:`score_records`).
    """
    from theralab.chem.rdkit_log import rdkit_messages

    with rdkit_messages():
        if model == PANEL:
            from theralab.discovery.admet.panel import get_panel

            return get_panel().predict_smiles(smiles)
        from theralab.discovery.admet.train import predict_frame

        return predict_frame(model, smiles)


class AdmetPredictJob:
    """Params: ``input`` (path), ``output`` (default ``<workdir>/admet.parquet``), ``model``
    (``panel`` or a registered model), ``smiles_column``, ``id_column``, ``chunk_size``."""

    def plan(self, params: dict[str, Any], workdir: Path) -> list[dict[str, Any]]:
        from theralab.chem.jobs import split_molecule_file

        return split_molecule_file(params, workdir, "admet.predict")

    def run_chunk(self, params: dict[str, Any], index: int, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
        from theralab.chem.io import records_from_chunk

        scored = score_records(records_from_chunk(pq.read_table(spec["input"]).to_pandas()), params.get("model", PANEL))
        write_parquet_atomic(scored, workdir / "chunks" / f"{index:06d}.parquet")
        return {"rows": len(scored), "errors": int((scored["error"] != "").sum())}

    def finalize(self, params: dict[str, Any], workdir: Path, stats: list[dict[str, Any]]) -> str:
        from theralab.chem.io import TableWriter

        output = Path(params.get("output") or workdir / "admet.parquet")
        with TableWriter(output) as writer:
            for index in range(len(stats)):
                writer.write(pq.read_table(workdir / "chunks" / f"{index:06d}.parquet").to_pandas())
        return str(output)

