"""2D depiction of molecules as SVG with RDKit's rdMolDraw2D (no matplotlib, no browser code).

``mol_to_svg`` draws one molecule; ``highlight`` marks atoms (for example an alert's match) and
``atom_weights`` colours each atom by a signed weight (blue negative, red positive, scaled to the
largest absolute weight), which is how later attribution heatmaps are drawn. The SVG has no XML
header, so it can be inlined in HTML as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from rdkit import Chem, rdBase
from rdkit.Chem.Draw import rdMolDraw2D

from theralab.errors import InputError

_HIGHLIGHT = (1.0, 0.55, 0.55)
MAX_SIZE = 2000


def mol_to_svg(
    mol: Chem.Mol | str,
    *,
    width: int = 300,
    height: int = 220,
    legend: str = "",
    highlight: Sequence[int] | None = None,
    atom_weights: Sequence[float] | None = None,
) -> str:
    """Draw a molecule (or a SMILES) as an SVG string.

    Args:
        mol: an RDKit molecule or a SMILES string.
        width: image width in pixels (16..2000).
        height: image height in pixels (16..2000).
        legend: text drawn under the molecule.
        highlight: atom indices to highlight (atoms and the bonds between them).
        atom_weights: one weight per atom; coloured blue (negative) to red (positive).

    Raises:
        InputError: the SMILES is malformed, a size is out of range, or ``atom_weights`` /
            ``highlight`` do not fit the molecule.
    """
    if isinstance(mol, str):
        from theralab.chem.io import parse_smiles

        parsed, err = parse_smiles(mol)
        if parsed is None:
            raise InputError(f"cannot draw: {err}", where="smiles", hint="check the SMILES")
        mol = parsed
    if mol is None:
        raise InputError("cannot draw an invalid molecule")
    for name, value in (("width", width), ("height", height)):
        if not 16 <= int(value) <= MAX_SIZE:
            raise InputError(f"{name} must be between 16 and {MAX_SIZE} pixels, got {value}", where=name)
    n = mol.GetNumAtoms()
    atoms: list[int] = []
    colours: dict[int, tuple[float, float, float]] = {}
    radii: dict[int, float] = {}
    if highlight:
        bad = [i for i in highlight if not 0 <= int(i) < n]
        if bad:
            raise InputError(
                f"highlight atom indices {bad} out of range for a molecule of {n} atoms", where="highlight"
            )
        atoms = sorted({int(i) for i in highlight})
        colours = {i: _HIGHLIGHT for i in atoms}
    if atom_weights is not None:
        if len(atom_weights) != n:
            raise InputError(
                f"atom_weights has {len(atom_weights)} values for a molecule of {n} atoms",
                where="atom_weights",
            )
        scale = max((abs(float(w)) for w in atom_weights), default=0.0) or 1.0
        for i, w in enumerate(atom_weights):
            t = float(w) / scale
            if abs(t) < 1e-3:
                continue
            atoms.append(i)
            colours[i] = (1.0, 1.0 - abs(t), 1.0 - abs(t)) if t > 0 else (1.0 - abs(t), 1.0 - abs(t), 1.0)
            radii[i] = 0.3 + 0.2 * abs(t)
        atoms = sorted(set(atoms))
    bonds: list[int] = []
    bond_colours: dict[int, tuple[float, float, float]] = {}
    if highlight:
        hit = set(atoms)
        for bond in mol.GetBonds():
            if bond.GetBeginAtomIdx() in hit and bond.GetEndAtomIdx() in hit:
                bonds.append(bond.GetIdx())
                bond_colours[bond.GetIdx()] = _HIGHLIGHT
    drawer = rdMolDraw2D.MolDraw2DSVG(int(width), int(height))
    drawer.drawOptions().clearBackground = True
    with rdBase.BlockLogs():
        try:
            prepared = rdMolDraw2D.PrepareMolForDrawing(mol)
        except Exception:  # odd valences can fail kekulisation; draw without preparation
            prepared = Chem.Mol(mol)
        drawer.DrawMolecule(
            prepared,
            legend=legend,
            highlightAtoms=atoms,
            highlightAtomColors=colours,
            highlightAtomRadii=radii,
            highlightBonds=bonds,
            highlightBondColors=bond_colours,
        )
    drawer.FinishDrawing()
    svg = drawer.GetDrawingText()
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1].lstrip()
    return svg
