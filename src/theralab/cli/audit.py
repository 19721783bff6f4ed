"""``theralab audit``: verify the hash-chained audit trail, and export it as FHIR AuditEvent ndjson."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from theralab.cli._common import App, console, err_console

app = App(help="The audit trail: verify its hash chain (tampering shows), export it as FHIR AuditEvents.",
                  no_args_is_help=True)


@app.command()
def verify() -> None:
    """Seal pending events, then recompute the whole chain; exit 1 at the first edited, missing or moved event."""
    from theralab.privacy.audit import verify as verify_chain

    result = verify_chain()
    if result.ok:
        console.print(f"audit chain intact: {result.checked} events verified")
        return
    err_console.print(f"[red]audit chain BROKEN at event seq {result.first_bad_seq}: {result.reason}[/red] "
                      f"({result.checked} events verified before it)")
    raise typer.Exit(1)


@app.command()
def export(
    output: Path = typer.Option(..., "-o", "--output", help="ndjson file: one FHIR R4 AuditEvent a line"),
    limit: int = typer.Option(100_000, help="most recent events to write"),
) -> None:
    """Write the latest events as FHIR AuditEvent resources (identifiers only; one JSON object a line)."""
    from theralab.privacy.audit import recent, to_fhir
    from theralab.runtime.db import session_scope

    with session_scope() as session, output.open("w") as fh:
        events = recent(session, limit)
        for event in reversed(events):
            fh.write(json.dumps(to_fhir(event), separators=(",", ":")) + "\n")
    console.print(f"wrote {len(events)} audit events to {output}")
