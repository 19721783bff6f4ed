"""Drug and disease features: molecules through :mod:`theralab.chem`, diseases through the ICD-10-CM tree.

Drug block (per trial, over its drugs with a structure): the mean and max of the 18
:mod:`theralab.chem.descriptors`, the OR of their Morgan radius-2 1,024-bit fingerprints
(:mod:`theralab.chem.fingerprints`), and counts (drugs, with SMILES, unreadable SMILES, placebo arm).
A trial with no readable structure gets NaN descriptors and a zero fingerprint with ``drug_missing=1``
and a note: the models see "unknown", never a made-up molecule.

Disease block: per ICD-10-CM chapter (22, from ``simple_icd_10_cm``'s hierarchy) the share of the
trial's codes in it, the codes' three-character categories hashed into 64 buckets (CRC32, stable
across runs and machines), and counts of codes, diseases, distinct categories and unknown codes.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from typing import Any

import numpy as np

from theralab.trials.outcome.schemas import TrialRecord

FP_BITS = 1024
ICD_BUCKETS = 64
N_CHAPTERS = 22
_PLACEBO = re.compile(r"\bplacebo|\bsham\b|\bvehicle\b", re.I)


@lru_cache(maxsize=1)
def _chem() -> tuple[Any, Any, tuple[str, ...], Any]:
    from theralab.chem.descriptors import DESCRIPTOR_NAMES, descriptor_row
    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec
    from theralab.chem.io import parse_smiles

    return parse_smiles, descriptor_row, DESCRIPTOR_NAMES, Fingerprinter(fingerprint_spec("morgan2", FP_BITS))


def drug_columns() -> list[str]:
    """Names of the drug-block columns, in order."""
    names = _chem()[2]
    return (["drug_n", "drug_n_smiles", "drug_n_bad_smiles", "drug_placebo", "drug_missing"]
            + [f"drug_mean_{n}" for n in names] + [f"drug_max_{n}" for n in names]
            + [f"drug_fp_{i}" for i in range(FP_BITS)])


@lru_cache(maxsize=4096)
def _molecule(smiles: str) -> tuple[tuple[float, ...], bytes] | None:
    parse_smiles, descriptor_row, _, fper = _chem()
    mol, _why = parse_smiles(smiles)
    if mol is None:
        return None
    return tuple(float(x) for x in descriptor_row(mol)), np.packbits(fper.bits(mol)).tobytes()


def drug_features(record: TrialRecord) -> tuple[dict[str, float], list[str]]:
    """The drug block of one trial and notes on what is missing."""
    names = _chem()[2]
    notes: list[str] = []
    rows, fps, bad = [], [], 0
    for d in record.drugs:
        if not d.smiles:
            continue
        got = _molecule(d.smiles)
        if got is None:
            bad += 1
            notes.append(f"drug {d.name!r}: SMILES could not be read; left out of the drug features")
            continue
        rows.append(got[0])
        fps.append(np.unpackbits(np.frombuffer(got[1], dtype=np.uint8))[:FP_BITS])
    out: dict[str, float] = {"drug_n": float(len(record.drugs)), "drug_n_smiles": float(len(rows)),
                             "drug_n_bad_smiles": float(bad),
                             "drug_placebo": float(any(_PLACEBO.search(d.name) for d in record.drugs)),
                             "drug_missing": float(not rows)}
    if rows:
        arr = np.asarray(rows, dtype=float)
        mean, mx = arr.mean(axis=0), arr.max(axis=0)
        fp = np.bitwise_or.reduce(np.stack(fps), axis=0)
    else:
        mean = mx = np.full(len(names), np.nan)
        fp = np.zeros(FP_BITS, dtype=np.uint8)
        notes.append("drug features missing: no drug with a readable SMILES" if record.drugs
                     else "drug features missing: the trial lists no drugs")
    out.update({f"drug_mean_{n}": float(v) for n, v in zip(names, mean, strict=True)})
    out.update({f"drug_max_{n}": float(v) for n, v in zip(names, mx, strict=True)})
    out.update({f"drug_fp_{i}": float(b) for i, b in enumerate(fp)})
    return out, notes


def disease_columns() -> list[str]:
    """Names of the disease-block columns, in order."""
    return (["dis_n_diseases", "dis_n_codes", "dis_n_categories", "dis_n_unknown_codes", "dis_missing"]
            + [f"dis_chapter_{i}" for i in range(1, N_CHAPTERS + 1)]
            + [f"dis_cat_hash_{i}" for i in range(ICD_BUCKETS)])


@lru_cache(maxsize=65536)
def icd_chapter(code: str) -> tuple[int, str] | None:
    """(chapter number, three-character category) of an ICD-10-CM code, None when it is not a code.

    Codes missing from ICD-10-CM but whose category exists (a TOP code one level too deep) are
    resolved through their category.
    """
    import simple_icd_10_cm as icd

    code = code.strip().upper()
    for candidate in (code, code.split(".")[0]):
        if candidate and icd.is_valid_item(candidate):
            ancestors = icd.get_ancestors(candidate)
            own = candidate if icd.is_chapter(candidate) else None
            chapter = next((a for a in ancestors if icd.is_chapter(a)), own)
            if chapter is None or not str(chapter).isdigit():
                return None
            category = code.split(".")[0][:3]
            return int(chapter), category
    return None


def disease_features(record: TrialRecord) -> tuple[dict[str, float], list[str]]:
    """The disease block of one trial and notes on unknown codes."""
    chapters = np.zeros(N_CHAPTERS)
    buckets = np.zeros(ICD_BUCKETS)
    cats: set[str] = set()
    unknown = []
    for code in record.icd_codes:
        got = icd_chapter(code)
        if got is None:
            unknown.append(code)
            continue
        chapters[got[0] - 1] += 1
        if got[1] not in cats:
            cats.add(got[1])
            buckets[zlib.crc32(got[1].encode()) % ICD_BUCKETS] = 1.0
    known = len(record.icd_codes) - len(unknown)
    notes = []
    if unknown:
        notes.append(f"unknown ICD-10-CM code(s) left out: {', '.join(unknown[:10])}")
    if not known:
        notes.append("disease features missing: no known ICD-10-CM code" + (
            " (the trial names diseases but no codes)" if record.diseases else ""))
    share = chapters / known if known else np.full(N_CHAPTERS, np.nan)
    out = {"dis_n_diseases": float(len(record.diseases)), "dis_n_codes": float(known),
           "dis_n_categories": float(len(cats)), "dis_n_unknown_codes": float(len(unknown)),
           "dis_missing": float(known == 0)}
    out.update({f"dis_chapter_{i + 1}": float(v) for i, v in enumerate(share)})
    out.update({f"dis_cat_hash_{i}": float(v) for i, v in enumerate(buckets)})
    return out, notes
