"""ADMET-AI's eleven physico-chemical properties, with structural alerts screened before matching.

ADMET-AI counts PAINS (480 patterns), Brenk (105) and NIH (180) alerts with RDKit's
``FilterCatalog.GetMatches`` and computes QED, whose ALERTS term runs 116 more substructure
matches: ~880 subgraph-isomorphism calls per molecule and most of the panel's non-neural time.
:mod:`theralab.chem.alert_screen` rules most of them out with pattern fingerprints (one per
molecule) and runs the catalogue's own matcher on the survivors, so the counts are the
catalogue's by construction; ``tests/discovery/test_admet_physchem.py`` checks every column
against ADMET-AI's own ``compute_physicochemical_properties``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from rdkit import Chem

from theralab.chem.alert_screen import ScreenedQueries, catalog_screen, element_counts, pattern_words, screened_qed


@lru_cache(maxsize=1)
def alert_screens() -> dict[str, ScreenedQueries]:
    """ADMET-AI's three catalogues (its own ``FilterCatalog`` objects), screened."""
    from admet_ai import physchem as ap

    return {
        "PAINS_alert": catalog_screen(ap.catalog_pains),
        "BRENK_alert": catalog_screen(ap.catalog_brenk),
        "NIH_alert": catalog_screen(ap.catalog_nih),
    }


def physchem_table(mols: Sequence[Chem.Mol]) -> np.ndarray:
    """``[n, 11]`` ADMET-AI physico-chemical properties in its column order (see ``admet_panel.PHYSCHEM``).

    Same RDKit functions as ``admet_ai.physchem``; Lipinski and QED reuse weight, logP, HBA, HBD
    and TPSA instead of recomputing them, and the four alert counts go through the pattern-fingerprint
    and element-count screens.
    """
    from admet_ai import physchem as ap

    mols = list(mols)
    out = np.zeros((len(mols), 11), dtype=float)
    if not mols:
        return out
    words = np.vstack([pattern_words(m) for m in mols])
    elements = np.vstack([element_counts(m) for m in mols])
    screens = alert_screens()
    for col, name in ((8, "PAINS_alert"), (9, "BRENK_alert"), (10, "NIH_alert")):
        out[:, col] = screens[name].count(mols, words, mol_elements=elements)
    for i, mol in enumerate(mols):
        mw, logp = ap.MolWt(mol), ap.MolLogP(mol)
        hba, hbd, tpsa = ap.CalcNumHBA(mol), ap.CalcNumHBD(mol), ap.CalcTPSA(mol)
        out[i, :8] = (
            mw,
            logp,
            hba,
            hbd,
            float(sum([mw <= 500, logp <= 5, hba <= 10, hbd <= 5])),
            screened_qed(mol, words[i], {"MW": mw, "ALOGP": logp, "HBD": hbd, "PSA": tpsa}, elements[i]),
            ap.CalcNumAtomStereoCenters(mol),
            tpsa,
        )
    return out
