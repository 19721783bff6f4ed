"""One drawing for every ADMET explanation: the molecule's atom heatmap, the predicted value, what
share of the prediction the colours account for, and a colour scale in the endpoint's units.

Why: strong colours with no value and no scale invite over-reading; the same colour can mean
0.001 or 0.3 of a probability. The scale is symmetric around zero (blue lowers, red raises the
prediction) and its ends are the largest absolute atom contribution, exactly what
:func:`theralab.chem.depict.mol_to_svg` maps to full colour.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from rdkit import Chem

WIDTH, MOL_HEIGHT, BAR = 560, 380, 78


def heatmap_svg(mol: Chem.Mol, weights: Sequence[float], *, title: str, note: str, units: str) -> str:
    """A self-contained SVG: title line, molecule heatmap, note line, colour bar with end labels."""
    from theralab.chem.depict import mol_to_svg

    top = max((abs(float(w)) for w in weights), default=0.0)
    inner = mol_to_svg(mol, width=WIDTH, height=MOL_HEIGHT, atom_weights=list(weights))
    inner = inner.replace("<svg ", '<svg x="0" y="24" ', 1)
    height = 24 + MOL_HEIGHT + BAR
    y_note, y_bar = 24 + MOL_HEIGHT + 16, 24 + MOL_HEIGHT + 28
    unit = f" {units}" if units else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">'
        '<defs><linearGradient id="tl-scale" x1="0" x2="1" y1="0" y2="0">'
        '<stop offset="0" stop-color="#0000ff"/><stop offset="0.5" stop-color="#ffffff"/>'
        '<stop offset="1" stop-color="#ff0000"/></linearGradient></defs>'
        f'<text x="8" y="17" font-size="14" font-weight="bold">{html.escape(title)}</text>'
        f"{inner}"
        f'<text x="8" y="{y_note}" font-size="11" fill="#333">{html.escape(note)}</text>'
        f'<rect x="60" y="{y_bar}" width="{WIDTH - 120}" height="12" fill="url(#tl-scale)" stroke="#888"/>'
        f'<text x="60" y="{y_bar + 26}" font-size="11" text-anchor="middle">{-top:+.2g}</text>'
        f'<text x="{WIDTH / 2}" y="{y_bar + 26}" font-size="11" text-anchor="middle">0</text>'
        f'<text x="{WIDTH - 60}" y="{y_bar + 26}" font-size="11" text-anchor="middle">{top:+.2g}</text>'
        f'<text x="{WIDTH / 2}" y="{y_bar + 42}" font-size="11" text-anchor="middle">'
        f"atom contribution{html.escape(unit)} (blue lowers, red raises)</text></svg>"
    )
