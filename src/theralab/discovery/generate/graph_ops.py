"""Graph crossover and mutation on RDKit molecules, after Jensen's Graph GA (Chem Sci 2019, 10, 3567).

Rewritten from the published operators (``crossover.py`` / ``mutate.py`` of the GB-GA code used by
GuacaMol and PMO): crossover cuts each parent at an acyclic single bond or across a ring and joins
fragments with reaction SMARTS; mutation applies one of seven graph edits (insert / append / delete
atom, change atom or bond order, add a ring, delete a ring bond). Children must sanitise, have more
than 5 atoms and fewer than a size drawn from N(average_size, size_stdev) (the ZINC size prior),
and have no allenes in rings, no rings over 6 atoms and no double bonds in 3/4-rings.

Randomness comes from one ``random.Random`` passed in, so runs are reproducible by seed.
"""

from __future__ import annotations

import random
from functools import cache

from rdkit import Chem, rdBase
from rdkit.Chem import AllChem


@cache
def _smarts(s: str) -> Chem.Mol:
    return Chem.MolFromSmarts(s)


@cache
def _rxn(s: str) -> AllChem.ChemicalReaction:
    return AllChem.ReactionFromSmarts(s)


def _choice(rng: random.Random, items: list, p: list[float]):  # noqa: ANN202 - generic helper
    return rng.choices(items, weights=p, k=1)[0]


def ring_ok(mol: Chem.Mol) -> bool:
    """No ring allene, no macrocycle (> 6), no double bond inside a 3- or 4-ring."""
    if not mol.HasSubstructMatch(_smarts("[R]")):
        return True
    if mol.HasSubstructMatch(_smarts("[R]=[R]=[R]")):
        return False
    rings = mol.GetRingInfo().AtomRings()
    if rings and max(len(r) for r in rings) > 6:
        return False
    return not mol.HasSubstructMatch(_smarts("[r3,r4]=[r3,r4]"))


def mol_ok(mol: Chem.Mol, rng: random.Random, average_size: float, size_stdev: float) -> bool:
    """Sanitises, and has 5 < atoms < a size drawn from N(average_size, size_stdev)."""
    try:
        Chem.SanitizeMol(mol)
    except Exception:  # RDKit raises several sanitisation exception types
        return False
    target = size_stdev * rng.gauss(0.0, 1.0) + average_size
    return 5 < mol.GetNumAtoms() < target


def _cut(mol: Chem.Mol, rng: random.Random) -> tuple[Chem.Mol, ...] | None:
    matches = mol.GetSubstructMatches(_smarts("[*]-;!@[*]"))
    if not matches:
        return None
    a, b = rng.choice(matches)
    frag = Chem.FragmentOnBonds(mol, [mol.GetBondBetweenAtoms(a, b).GetIdx()], addDummies=True,
                                dummyLabels=[(1, 1)])
    try:
        return Chem.GetMolFrags(frag, asMols=True, sanitizeFrags=True)
    except ValueError:
        return None


def _cut_ring(mol: Chem.Mol, rng: random.Random) -> tuple[Chem.Mol, ...] | None:
    for _ in range(10):
        if rng.random() < 0.5:
            matches = mol.GetSubstructMatches(_smarts("[R]@[R]@[R]@[R]"))
            if not matches:
                return None
            m = rng.choice(matches)
            pairs = ((m[0], m[1]), (m[2], m[3]))
        else:
            matches = mol.GetSubstructMatches(_smarts("[R]@[R;!D2]@[R]"))
            if not matches:
                return None
            m = rng.choice(matches)
            pairs = ((m[0], m[1]), (m[1], m[2]))
        bonds = [mol.GetBondBetweenAtoms(x, y).GetIdx() for x, y in pairs]
        frag = Chem.FragmentOnBonds(mol, bonds, addDummies=True, dummyLabels=[(1, 1), (1, 1)])
        try:
            frags = Chem.GetMolFrags(frag, asMols=True, sanitizeFrags=True)
        except ValueError:
            return None
        if len(frags) == 2:
            return frags
    return None


def _crossover_ring(a: Chem.Mol, b: Chem.Mol, rng: random.Random, size: tuple[float, float]) -> Chem.Mol | None:
    ring = _smarts("[R]")
    if not a.HasSubstructMatch(ring) and not b.HasSubstructMatch(ring):
        return None
    join1 = ["[*:1]~[1*].[1*]~[*:2]>>[*:1]-[*:2]", "[*:1]~[1*].[1*]~[*:2]>>[*:1]=[*:2]"]
    join2 = ["([*:1]~[1*].[1*]~[*:2])>>[*:1]-[*:2]", "([*:1]~[1*].[1*]~[*:2])>>[*:1]=[*:2]"]
    for _ in range(10):
        fa, fb = _cut_ring(a, rng), _cut_ring(b, rng)
        if fa is None or fb is None:
            return None
        trial = []
        for rs in join1:  # as published: only the last bond type's products are kept
            trial = [_rxn(rs).RunReactants((x, y))[0] for x in fa for y in fb]
        joined = []
        for rs in join2:
            for m in trial:
                if mol_ok(m[0], rng, *size):
                    joined += list(_rxn(rs).RunReactants((m[0],)))
        good = [m[0] for m in joined if mol_ok(m[0], rng, *size) and ring_ok(m[0])]
        if good:
            return rng.choice(good)
    return None


def _crossover_non_ring(a: Chem.Mol, b: Chem.Mol, rng: random.Random, size: tuple[float, float]) -> Chem.Mol | None:
    rxn = _rxn("[*:1]-[1*].[1*]-[*:2]>>[*:1]-[*:2]")
    for _ in range(10):
        fa, fb = _cut(a, rng), _cut(b, rng)
        if fa is None or fb is None:
            return None
        trial = [rxn.RunReactants((x, y))[0][0] for x in fa for y in fb]
        good = [m for m in trial if mol_ok(m, rng, *size)]
        if good:
            return rng.choice(good)
    return None


def crossover(a: Chem.Mol, b: Chem.Mol, rng: random.Random, average_size: float = 39.15,
              size_stdev: float = 3.50) -> Chem.Mol | None:
    """A child of two parents (ring or non-ring cut, 50/50), different from both; None if none found."""
    size = (average_size, size_stdev)
    with rdBase.BlockLogs():
        parents = {Chem.MolToSmiles(a), Chem.MolToSmiles(b)}
        a, b = Chem.Mol(a), Chem.Mol(b)
        try:
            Chem.Kekulize(a, clearAromaticFlags=True)
            Chem.Kekulize(b, clearAromaticFlags=True)
        except Exception:  # noqa: BLE001 - as published: carry on with the aromatic form
            pass
        for _ in range(10):
            op = _crossover_non_ring if rng.random() <= 0.5 else _crossover_ring
            child = op(a, b, rng, size)
            if child is not None:
                smi = Chem.MolToSmiles(child)
                if smi and smi not in parents:
                    return child
    return None


def _insert_atom(rng: random.Random) -> str:
    bo = _choice(rng, ["single", "double", "triple"], [0.60, 0.35, 0.05])
    if bo == "single":
        return "[*:1]~[*:2]>>[*:1]X[*:2]".replace("X", rng.choice(["C", "N", "O", "S"]))
    if bo == "double":
        return "[*;!H0:1]~[*:2]>>[*:1]=X-[*:2]".replace("X", rng.choice(["C", "N"]))
    return "[*;!R;!H1;!H0:1]~[*:2]>>[*:1]#X-[*:2]".replace("X", "C")


def _change_bond_order(rng: random.Random) -> str:
    return _choice(rng, ["[*:1]!-[*:2]>>[*:1]-[*:2]", "[*;!H0:1]-[*;!H0:2]>>[*:1]=[*:2]",
                         "[*:1]#[*:2]>>[*:1]=[*:2]", "[*;!R;!H1;!H0:1]~[*:2]>>[*:1]#[*:2]"],
                   [0.45, 0.45, 0.05, 0.05])


def _add_ring(rng: random.Random) -> str:
    return _choice(rng, [
        "[*;!r;!H0:1]~[*;!r:2]~[*;!r;!H0:3]>>[*:1]1~[*:2]~[*:3]1",
        "[*;!r;!H0:1]~[*!r:2]~[*!r:3]~[*;!r;!H0:4]>>[*:1]1~[*:2]~[*:3]~[*:4]1",
        "[*;!r;!H0:1]~[*!r:2]~[*:3]~[*:4]~[*;!r;!H0:5]>>[*:1]1~[*:2]~[*:3]~[*:4]~[*:5]1",
        "[*;!r;!H0:1]~[*!r:2]~[*:3]~[*:4]~[*!r:5]~[*;!r;!H0:6]>>[*:1]1~[*:2]~[*:3]~[*:4]~[*:5]~[*:6]1",
    ], [0.05, 0.05, 0.45, 0.45])


def _delete_atom(rng: random.Random) -> str:
    return _choice(rng, [
        "[*:1]~[D1:2]>>[*:1]",
        "[*:1]~[D2:2]~[*:3]>>[*:1]-[*:3]",
        "[*:1]~[D3:2](~[*;!H0:3])~[*:4]>>[*:1]-[*:3]-[*:4]",
        "[*:1]~[D4:2](~[*;!H0:3])(~[*;!H0:4])~[*:5]>>[*:1]-[*:3]-[*:4]-[*:5]",
        "[*:1]~[D4:2](~[*;!H0;!H1:3])(~[*:4])~[*:5]>>[*:1]-[*:3](-[*:4])-[*:5]",
    ], [0.25, 0.25, 0.25, 0.1875, 0.0625])


def _change_atom(mol: Chem.Mol, rng: random.Random) -> str:
    elems = ["#6", "#7", "#8", "#9", "#16", "#17", "#35"]
    p = [0.15, 0.15, 0.14, 0.14, 0.14, 0.14, 0.14]
    present = [e for e in elems if mol.HasSubstructMatch(_smarts(f"[{e}]"))]
    if not present:
        return "[*:1]>>[*:1]"
    x = _choice(rng, present, [p[elems.index(e)] for e in present])
    y = _choice(rng, [e for e in elems if e != x], [p[elems.index(e)] for e in elems if e != x])
    return f"[{x}:1]>>[{y}:1]"


def _append_atom(rng: random.Random) -> str:
    bo = _choice(rng, ["single", "double", "triple"], [0.60, 0.35, 0.05])
    if bo == "single":
        return "[*;!H0:1]>>[*:1]-" + rng.choice(["C", "N", "O", "F", "S", "Cl", "Br"])
    if bo == "double":
        return "[*;!H0;!H1:1]>>[*:1]=" + rng.choice(["C", "N", "O"])
    return "[*;H3:1]>>[*:1]#" + rng.choice(["C", "N"])


def mutate(mol: Chem.Mol, rng: random.Random, mutation_rate: float, average_size: float = 39.15,
           size_stdev: float = 3.50) -> Chem.Mol | None:
    """With probability ``mutation_rate`` apply one random graph edit; None when no edit gave a valid child."""
    if rng.random() > mutation_rate:
        return mol
    mol = Chem.Mol(mol)
    with rdBase.BlockLogs():
        try:
            Chem.Kekulize(mol, clearAromaticFlags=True)
        except Exception:  # noqa: BLE001
            return None
        p = [0.15, 0.14, 0.14, 0.14, 0.14, 0.14, 0.15]
        for _ in range(10):
            ops = [_insert_atom(rng), _change_bond_order(rng), "[*:1]@[*:2]>>([*:1].[*:2])", _add_ring(rng),
                   _delete_atom(rng), _change_atom(mol, rng), _append_atom(rng)]
            rxn = _rxn(_choice(rng, ops, p))
            good = [m[0] for m in rxn.RunReactants((mol,))
                    if mol_ok(m[0], rng, average_size, size_stdev) and ring_ok(m[0])]
            if good:
                return rng.choice(good)
    return None
