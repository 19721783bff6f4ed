"""Standardise molecules with RDKit's MolStandardize, keeping a record of every change made.

The pipeline follows the order RDKit's ``rdMolStandardize.Cleanup`` / ``ChargeParent`` /
``TautomerParent`` use (itself the MolVS order, Fourches et al. 2010 data-curation practice):

1. **cleanup**: remove explicit hydrogens, disconnect metals from O/N/S... (``MetalDisconnector``),
   normalise functional groups to one drawing (nitro, N-oxides, sulfoxides, azides...;
   ``Normalizer``), and move charges to the most acidic site (``Reionizer``);
2. **largest fragment**: keep the largest organic fragment (``LargestFragmentChooser``; counts
   atoms, then heavy atoms, then molecular weight), dropping counter-ions and solvents;
3. **neutralise**: add or remove protons to neutralise charged acids and bases where possible
   (``Uncharger``); quaternary ammonium and zwitterion-only charges stay;
4. **canonical tautomer** (optional, slow: tens of milliseconds for large molecules):
   ``TautomerEnumerator.Canonicalize`` picks one tautomer by RDKit's scoring.

Each step compares canonical SMILES before and after, and only a real change is recorded, so a
clean input reports an empty change list. The RDKit standardiser objects are built once per
process and reused (building them parses their transform tables).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

from theralab.chem.rdkit_log import rdkit_messages
from theralab.errors import InputError


@dataclass(frozen=True)
class StandardizeResult:
    """A standardised molecule and the list of changes made to get it.

    Attributes:
        mol: the standardised molecule.
        smiles: its canonical isomeric SMILES.
        changes: human-readable changes in pipeline order, e.g. ``removed fragment [Na+]``.
        warnings: what RDKit warned about while standardising (collected, never printed).
    """

    mol: Chem.Mol
    smiles: str
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """The result without the RDKit object, for JSON."""
        return {"smiles": self.smiles, "changes": list(self.changes)}


@dataclass(frozen=True)
class _Tools:
    metal: rdMolStandardize.MetalDisconnector
    normalizer: rdMolStandardize.Normalizer
    reionizer: rdMolStandardize.Reionizer
    chooser: rdMolStandardize.LargestFragmentChooser
    uncharger: rdMolStandardize.Uncharger
    tautomers: rdMolStandardize.TautomerEnumerator


@lru_cache(maxsize=1)
def standardizer_tools() -> _Tools:
    return _Tools(
        metal=rdMolStandardize.MetalDisconnector(),
        normalizer=rdMolStandardize.Normalizer(),
        reionizer=rdMolStandardize.Reionizer(),
        chooser=rdMolStandardize.LargestFragmentChooser(preferOrganic=True),
        uncharger=rdMolStandardize.Uncharger(canonicalOrder=True),
        tautomers=rdMolStandardize.TautomerEnumerator(),
    )


def standardize(
    mol: Chem.Mol, *, fragment: bool = True, neutralize: bool = True, tautomer: bool = False
) -> StandardizeResult:
    """Run the standardisation pipeline on one molecule.

    Args:
        mol: a sanitised RDKit molecule (it is not modified).
        fragment: keep only the largest fragment.
        neutralize: neutralise charges where a proton can be added or removed.
        tautomer: pick RDKit's canonical tautomer (off by default: it is slow).

    Returns:
        The standardised molecule, its canonical SMILES and the changes made.

    Raises:
        InputError: RDKit could not standardise the molecule (the reason is in the message).
    """
    if mol is None:
        raise InputError("no molecule to standardise")
    tools = standardizer_tools()
    changes: list[str] = []
    with rdkit_messages() as rdkit:
        try:
            before = Chem.MolToSmiles(mol)
            m = Chem.RemoveHs(mol)
            m = tools.metal.Disconnect(m)
            cur = Chem.MolToSmiles(m)
            if cur != before:
                changes.append("disconnected metal")
            m = tools.normalizer.normalize(m)
            new = Chem.MolToSmiles(m)
            if new != cur:
                changes.append("normalised functional groups")
                cur = new
            m = tools.reionizer.reionize(m)
            new = Chem.MolToSmiles(m)
            if new != cur:
                changes.append("reionised (charge moved to the most acidic site)")
                cur = new
            if fragment and "." in cur:
                frags = cur.split(".")
                m = tools.chooser.choose(m)
                new = Chem.MolToSmiles(m)
                removed = Counter(frags) - Counter(new.split("."))
                for smi, n in sorted(removed.items()):
                    changes.append(f"removed fragment {smi}" + (f" (x{n})" if n > 1 else ""))
                cur = new
            if neutralize:
                charge = Chem.GetFormalCharge(m)
                m = tools.uncharger.uncharge(m)
                new = Chem.MolToSmiles(m)
                if new != cur:
                    after = Chem.GetFormalCharge(m)
                    changes.append(
                        "neutralised" + (f" (net charge {charge:+d} -> {after:+d})" if after != charge else "")
                    )
                    cur = new
            if tautomer:
                m = tools.tautomers.Canonicalize(m)
                new = Chem.MolToSmiles(m)
                if new != cur:
                    changes.append("tautomer changed")
                    cur = new
        except Exception as exc:  # RDKit raises its own exception types for odd chemistry
            raise InputError(f"standardisation failed: {exc}", hint="check the structure") from exc
    return StandardizeResult(mol=m, smiles=cur, changes=changes, warnings=rdkit.warnings)


def standardize_smiles(smiles: str, **kwargs: bool) -> StandardizeResult:
    """Parse and standardise one SMILES (see :func:`standardize` for the options).

    Raises:
        InputError: the SMILES is malformed or standardisation failed.
    """
    from theralab.chem.io import parse_smiles

    mol, err = parse_smiles(smiles)
    if mol is None:
        raise InputError(err or "invalid SMILES", where=smiles)
    return standardize(mol, **kwargs)
