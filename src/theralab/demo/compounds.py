"""The demo compound library: approved drugs plus seeded combinatorial compounds (RDKit ``molzip``).

Why its own module: the screening demo (:mod:`theralab.demo.science`) and the demo loader both
read it, and neither should import the other for it.
"""

from __future__ import annotations

import random
from pathlib import Path

KNOWN_DRUGS: dict[str, str] = {
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "ibuprofen": "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "metformin": "CN(C)C(=N)N=C(N)N",
    "atenolol": "CC(C)NCC(O)COc1ccc(CC(N)=O)cc1",
    "omeprazole": "COc1ccc2[nH]c(nc2c1)S(=O)Cc1ncc(C)c(OC)c1C",
    "diazepam": "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21",
    "warfarin": "CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2oc1=O",
    "clopidogrel": "COC(=O)C(c1ccccc1Cl)N1CCc2sccc2C1",
    "simvastatin": "CCC(C)(C)C(=O)OC1CC(C)C=C2C=CC(C)C(CCC3CC(O)CC(=O)O3)C12",
    "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "sertraline": "CNC1CCC(c2ccc(Cl)c(Cl)c2)c2ccccc21",
    "ciprofloxacin": "OC(=O)c1cn(C2CC2)c2cc(N3CCNCC3)c(F)cc2c1=O",
    "losartan": "CCCCc1nc(Cl)c(CO)n1Cc1ccc(-c2ccccc2-c2nn[nH]n2)cc1",
    "tamoxifen": "CCC(=C(c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1",
}

SCAFFOLDS = [
    "c1ccc([*:1])cc1", "c1ccc2[nH]c([*:1])cc2c1", "c1cnc([*:1])nc1", "O=C(N[*:1])c1ccccc1",
    "c1ccc2c(c1)oc(=O)c([*:1])c2", "C1CCN([*:1])CC1", "c1csc([*:1])n1", "O=C1CCC([*:1])N1",
    "c1ccc(-c2ccc([*:1])cc2)cc1", "C1COCCN1C(=O)c1ccc([*:1])cc1",
]
SUBSTITUENTS = [
    "[*:1]C", "[*:1]Cl", "[*:1]F", "[*:1]OC", "[*:1]C(=O)O", "[*:1]N", "[*:1]C(F)(F)F", "[*:1]C#N",
    "[*:1]S(=O)(=O)N", "[*:1]CCN(C)C", "[*:1]c1ccncc1", "[*:1]OCC(O)CO", "[*:1]NC(=O)C", "[*:1]C1CC1",
    "[*:1]c1ccc(O)cc1", "[*:1]CC(=O)Nc1ccccc1",
]


def demo_library(seed: int = 7, extra: int = 120) -> list[dict[str, str]]:
    """The demo compound library: known drugs first, then ``extra`` seeded combinatorial compounds."""
    from rdkit import Chem

    rows = [{"id": name, "smiles": smi, "source": "approved drug"} for name, smi in KNOWN_DRUGS.items()]
    rng = random.Random(seed)
    pairs = [(s, r) for s in SCAFFOLDS for r in SUBSTITUENTS]
    rng.shuffle(pairs)
    seen: set[str] = set()
    for scaffold, sub in pairs:
        if len(rows) >= len(KNOWN_DRUGS) + extra:
            break
        joined = Chem.molzip(Chem.MolFromSmiles(scaffold), Chem.MolFromSmiles(sub))
        smiles = Chem.MolToSmiles(joined)
        if smiles in seen:
            continue
        seen.add(smiles)
        rows.append({"id": f"TL-{len(rows):05d}", "smiles": smiles, "source": "combinatorial (seeded)"})
    # a couple of deliberately broken rows, so the demo shows how bad input is reported
    rows.append({"id": "TL-BAD-1", "smiles": "C1CC(", "source": "broken on purpose"})
    rows.append({"id": "TL-BAD-2", "smiles": "not a molecule", "source": "broken on purpose"})
    return rows


def write_demo_library(path: Path, seed: int = 7) -> Path:
    """Write the demo library as CSV and return its path."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    rows = demo_library(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "smiles", "source"])
        writer.writeheader()
        writer.writerows(rows)
    return path
