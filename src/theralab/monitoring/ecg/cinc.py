"""The PhysioNet/CinC Challenge 2017 folder: labels and a fingerprint of its contents.

Kept apart from :mod:`.rhythm` (the classifier) and :mod:`.cnn` (the network) because both train on
it: each imports this module instead of the other, so there is no import cycle between them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from theralab.errors import InputError, NotFoundError

CLASSES = ("N", "A", "O", "~")


def load_cinc(directory: Path) -> pd.DataFrame:
    """The REFERENCE.csv labels of a CinC 2017 folder (record, label), checked."""
    ref = Path(directory) / "REFERENCE.csv"
    if not ref.is_file():
        raise NotFoundError(
            f"no REFERENCE.csv in {directory}", where=str(directory), hint="point at the CinC 2017 training2017 folder"
        )
    df = pd.read_csv(ref, header=None, names=["record", "label"], dtype=str)
    bad = df[~df.label.isin(CLASSES)]
    if len(bad):
        raise InputError(
            f"unknown label {bad.label.iloc[0]!r}", where=f"{ref}:{bad.index[0] + 1}", hint="labels are N, A, O or ~"
        )
    return df


def data_fingerprint(directory: Path) -> str:
    """sha256 over REFERENCE.csv and the sorted names and sizes of the signal files."""
    d = Path(directory)
    h = hashlib.sha256((d / "REFERENCE.csv").read_bytes())
    for f in sorted(d.glob("*.mat")):
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return h.hexdigest()
