"""Loaders (Davis pKd, KIBA, setting-1 folds), the four splits, and bad user rows with reasons."""

from __future__ import annotations

import numpy as np
import pytest

from theralab.discovery.dti import (
    clean_sequence,
    load_benchmark,
    read_fasta_or_sequence,
    read_pairs_csv,
    sequence_problem,
    setting1_folds,
    split_pairs,
)
from theralab.errors import InputError


def test_davis_pkd_and_setting1_folds(shared_data):
    root = shared_data / "discovery"
    davis = load_benchmark("davis", root)
    assert (len(davis.drugs), len(davis.targets), len(davis)) == (68, 442, 30056)  # complete 68 x 442 matrix
    # first matrix entry: Kd = 43 nM -> pKd = 9 - log10(43); 10000 nM (not bound) -> 5; minimum 0.016 nM
    assert davis.y[0] == pytest.approx(9 - np.log10(43), abs=1e-5) and davis.y.min() == pytest.approx(5.0)
    assert davis.y.max() == pytest.approx(-np.log10(0.016 / 1e9), abs=1e-4)
    folds, test = setting1_folds(root / "dti_davis")
    assert [len(f) for f in folds] == [5010, 5009, 5009, 5009, 5009] and len(test) == 5010
    assert len(np.intersect1d(np.concatenate(folds), test)) == 0
    tr, va, te = split_pairs(davis, "setting1", setting1_root=root / "dti_davis")
    assert len(tr) + len(va) + len(te) == 30056


def test_kiba_loads_measured_entries_only(shared_data):
    kiba = load_benchmark("kiba", shared_data / "discovery")
    assert (len(kiba.drugs), len(kiba.targets), len(kiba)) == (2111, 229, 118254)
    assert np.isfinite(kiba.y).all()


def test_cold_splits_are_cold(tiny):
    for kind, side in (("cold-drug", "drug_idx"), ("cold-target", "target_idx")):
        tr, va, te = split_pairs(tiny, kind, seed=3, valid=0.2, test=0.2)
        seen = set(getattr(tiny, side)[tr])
        assert seen.isdisjoint(getattr(tiny, side)[te]) and seen.isdisjoint(getattr(tiny, side)[va])
        assert len(tr) + len(va) + len(te) == len(tiny)
    tr, va, te = split_pairs(tiny, "cold-both", seed=3, valid=0.2, test=0.25)
    assert set(tiny.drug_idx[tr]).isdisjoint(tiny.drug_idx[te])
    assert set(tiny.target_idx[tr]).isdisjoint(tiny.target_idx[te])
    assert len(te) > 0 and len(tr) + len(va) + len(te) < len(tiny)  # mixed pairs are dropped
    tr, va, te = split_pairs(tiny, "random", seed=0, valid=0.25, test=0.25)
    assert sorted(np.concatenate([tr, va, te])) == list(range(len(tiny)))
    with pytest.raises(InputError, match="folds"):
        split_pairs(tiny, "setting1")
    with pytest.raises(InputError, match="unknown split"):
        split_pairs(tiny, "scaffold")


def test_sequence_checks():
    assert sequence_problem("ACDE fghik\n") is None
    assert "empty" in sequence_problem("  ")
    assert "10,000 residues" in sequence_problem("A" * 10_000)
    assert "'1'" in sequence_problem("ACD1E") and "'*'" in sequence_problem("ACDE*")
    assert clean_sequence("acd e") == "ACDE"
    assert read_fasta_or_sequence(">sp|P00533 EGFR\nMRPS\nGTAG\n>next\nAAAA") == ("sp|P00533", "MRPSGTAG")
    with pytest.raises(InputError, match="non-amino-acid"):
        read_fasta_or_sequence(">x\nMRP-S")


def test_user_csv_keeps_good_rows_and_says_why_bad(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "smiles,sequence,affinity\n"
        "CCO,ACDEFGHIK,7.1\n"          # 1 good
        "C1CC,ACDEFGHIK,6.0\n"         # 2 bad SMILES (unclosed ring)
        "CCO,ACDEF1234,6.0\n"          # 3 digits in sequence
        "CCO,,6.0\n"                   # 4 empty sequence
        f"CCO,{'A' * 6000},6.0\n"      # 5 too long
        "CCO,ACDEFGHIK,high\n"         # 6 not a number
        "CCO,ACDEFGHIK,nan\n"          # 7 NaN
        ",,\n"                         # 8 NaN-only row
        "c1ccccc1O,acdefghik,5.5\n"    # 9 good (lower-case sequence)
    )
    data, bad = read_pairs_csv(path)
    assert len(data) == 2 and data.targets == ["ACDEFGHIK"] and np.allclose(data.y, [7.1, 5.5])
    why = {b.row: b.reason for b in bad}
    assert set(why) == {2, 3, 4, 5, 6, 7, 8}
    assert "SMILES" in why[2] and "non-amino-acid" in why[3] and "empty" in why[4]
    assert "6,000 residues" in why[5] and "not a number: 'high'" in why[6] and "finite" in why[7]
    assert "SMILES" in why[8] and "empty" in why[8] and "missing" in why[8]
    (tmp_path / "nocol.csv").write_text("smiles,affinity\nCCO,1\n")
    with pytest.raises(InputError, match="'sequence' column"):
        read_pairs_csv(tmp_path / "nocol.csv")
    (tmp_path / "allbad.csv").write_text("smiles,sequence,affinity\nxx,AC,1\n")
    with pytest.raises(InputError, match="no usable rows"):
        read_pairs_csv(tmp_path / "allbad.csv")
