"""MOSES data for the screening benchmarks: train set (1,584,663 SMILES) and test queries.

The MOSES sets ship inside the ``molsets==0.3.1`` wheel. We download the wheel once with pip
(``pip download --no-deps molsets==0.3.1 -d benchmarks/cache/``) and read the gzipped CSVs
straight from the zip, so nothing from MOSES itself needs installing (its dependencies pin old
libraries).
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import zipfile
from pathlib import Path

CACHE = Path(__file__).resolve().parent / "cache"
WHEEL = CACHE / "molsets-0.3.1-py3-none-any.whl"


def _wheel() -> Path:
    if not WHEEL.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "molsets==0.3.1", "-d", str(CACHE)],
            check=True,
        )
    return WHEEL


def _read_csv_from_wheel(member: str) -> list[str]:
    with zipfile.ZipFile(_wheel()) as zf, zf.open(member) as raw:
        text = io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
        header = next(text).strip().split(",")
        col = header.index("SMILES")
        return [line.rstrip("\n").split(",")[col] for line in text if line.strip()]


def train_smi() -> Path:
    """Write the MOSES train set as ``SMILES id`` lines (ids 0..n-1); return the path."""
    path = CACHE / "moses_train.smi"
    if not path.exists():
        smiles = _read_csv_from_wheel("moses/dataset/data/train.csv.gz")
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as fh:
            for i, smi in enumerate(smiles):
                fh.write(f"{smi} {i}\n")
        tmp.rename(path)
    return path


def test_queries(n: int = 50) -> list[str]:
    """The first ``n`` MOSES test-set SMILES (a fixed, reproducible query set)."""
    return _read_csv_from_wheel("moses/dataset/data/test.csv.gz")[:n]


if __name__ == "__main__":
    print(train_smi(), sum(1 for _ in train_smi().open()))
