"""A small sample of annotated abstracts (made up for the demo) to try the literature graph without data.

Why ship it: a new installation has an empty knowledge graph, and the page, the queries and the
demo need something to show. The eight abstracts in ``sample.bioc.json`` were written for theralab
(paraphrasing well-known pharmacology: EGFR inhibitors and rash, cisplatin ototoxicity, doxorubicin
cardiomyopathy); they are not from any corpus. Their mentions are annotated; relations come from the
shipped classifiers as for any input.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

SAMPLE = Path(__file__).resolve().parent / "sample.bioc.json"

__all__ = ["SAMPLE", "load_sample"]


def load_sample(session: Session, user: str = "sample") -> dict[str, int]:
    """Extract relations from the sample abstracts and load them into the graph; returns the load counts."""
    from theralab.literature.pipeline import process
    from theralab.literature.readers import read_bytes
    from theralab.literature.tables import load_documents

    docs, _errors = read_bytes(SAMPLE.read_bytes(), SAMPLE.name, "bioc-json")
    done, _failed = process(docs)
    return load_documents(session, done, user=user)
