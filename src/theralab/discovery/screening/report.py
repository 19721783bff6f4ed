"""Outputs of a screening run: hits (CSV, SDF), every passing molecule (Parquet), invalid rows,
and a self-contained HTML report (structures as inline SVG, the funnel, why each hit passed)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment

from theralab.discovery.screening.config import RunConfig

REPORT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ name }}: screening report</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem;color:#1d2330}table{border-collapse:collapse}
td,th{border-bottom:1px solid #d9dee7;padding:.3rem .5rem;text-align:left;vertical-align:middle}
th{background:#eef1f6}.mol svg{width:170px;height:130px}.muted{color:#5d6678}
table.hits{width:100%;max-width:100%;table-layout:auto}td.id code{word-break:break-all;white-space:normal}
td.id{max-width:16em}td.why{max-width:24em;font-size:12px;white-space:normal;overflow-wrap:anywhere}
td.why ul{margin:0;padding-left:1.1em}.query{background:#fff4d6}
.badge{display:inline-block;background:#b35c00;color:#fff;border-radius:3px;padding:0 .3em;font-size:11px}
nav.back{margin-bottom:1rem}
</style></head><body>
<nav class="back" aria-label="Back"><a href="/screening">← Virtual screening</a> · <a href="/jobs">Jobs</a></nav>
<h1>{{ name }}</h1>
<p class="muted">Library {{ library }} · {{ funnel['input rows'] }} rows · {{ hits|length }} hits selected by
{{ method }}</p>
<h2>Funnel</h2><table>{% for k, v in funnel.items() %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table>
<p class="muted">Ranking: {{ ranking }}</p>
{% if n_query %}<p><span class="badge">query active</span> {{ n_query }} hit(s) are query actives themselves
(same InChIKey); set <code>similarity.exclude_actives = true</code> to leave them out.</p>{% endif %}
<h2>Hits</h2><table class="hits"><tr><th>#</th><th>Id</th><th>Structure</th><th>Score</th>
{% for c in extra %}<th>{{ c }}</th>{% endfor %}<th>Why it passed</th></tr>
{% for h in hits %}<tr{% if h.query_active %} class="query"{% endif %}><td>{{ loop.index }}</td>
<td class="id">{{ h.id }}{% if h.query_active %} <span class="badge">query active</span>{% endif %}
<br><small><code>{{ h.smiles }}</code></small></td>
<td class="mol">{{ h.svg|safe }}</td><td>{{ '%.3f' % h.score }}</td>
{% for c in extra %}<td>{{ '%.3g' % h[c] if h[c] is number else h[c] }}</td>{% endfor %}
<td class="why"><ul>
{% for r in h.reasons.split('; ') if r %}<li>{{ r }}</li>{% endfor %}</ul></td></tr>
{% endfor %}</table>
{% if invalid %}<h2>Invalid rows (first {{ invalid|length }})</h2><table><tr><th>Row</th><th>Id</th><th>Input</th>
<th>Reason</th></tr>{% for r in invalid %}<tr><td>{{ r.row }}</td><td>{{ r.id }}</td><td><code>{{ r.input }}</code>
</td><td>{{ r.reason }}</td></tr>{% endfor %}</table>{% endif %}
</body></html>"""


def write_outputs(out_dir: Path, config: RunConfig, passed: pd.DataFrame, hits: pd.DataFrame,
                  funnel: dict[str, Any], invalid: list[dict[str, Any]]) -> Path:
    """Write hits.csv, hits.sdf, passed.parquet, invalid.csv and report.html; return the hits CSV path."""
    from theralab.chem.depict import mol_to_svg
    from theralab.chem.io import write_sdf

    out_dir.mkdir(parents=True, exist_ok=True)
    hits.to_csv(out_dir / "hits.csv", index=False)
    passed.to_parquet(out_dir / "passed.parquet", index=False)
    pd.DataFrame(invalid, columns=["row", "id", "input", "reason"]).to_csv(out_dir / "invalid.csv", index=False)
    if len(hits):
        from rdkit import Chem

        fields = ["score", "reasons", "similarity", "query_active", "cluster", "inchikey"]
        fields += [c for c in hits.columns if c.startswith("d_")]
        props = hits[[c for c in fields if c in hits.columns]]
        write_sdf([Chem.MolFromSmiles(s) for s in hits["smiles"]], out_dir / "hits.sdf",
                  ids=hits["id"].astype(str).tolist(), props=props)
    extra = [c for c in hits.columns if c == "similarity" or c.startswith("d_")]
    extra += [m.prefix + (m.column or "") for m in config.models if m.column]
    extra += ["mw", "clogp", "qed"]
    rows = []
    for record in hits.to_dict("records"):
        record["svg"] = mol_to_svg(record["smiles"], width=170, height=130)
        record["query_active"] = record.get("query_active") if isinstance(record.get("query_active"), str) else ""
        record["reasons"] = str(record.get("reasons") or "")
        rows.append(record)
    page = Environment(autoescape=True).from_string(REPORT).render(
        name=html.escape(config.run.name), library=config.run.library, funnel=funnel, hits=rows,
        extra=[c for c in dict.fromkeys(extra) if c in hits.columns], method=config.diversity.method,
        invalid=invalid[:200], ranking=funnel.get("ranking", ""), n_query=sum(1 for r in rows if r["query_active"]),
    )
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    return out_dir / "hits.csv"
