"""Packed fingerprints must carry exactly RDKit's bits, so our Tanimoto equals RDKit's."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem, DataStructs

from theralab.chem.fingerprints import (
    FP_TYPES,
    Fingerprinter,
    common_bits,
    fingerprint_spec,
    pack_bits,
    popcount,
    tanimoto,
    unpack_bits,
)
from theralab.errors import InputError

SMILES = [
    "CC(=O)Nc1ccc(O)cc1",
    "CC(=O)Oc1ccccc1C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "c1ccccc1",
    "CCO",
    "O=C(O)c1ccccc1O",
    "C[N+](C)(C)C",
]


@pytest.fixture(scope="module")
def mols() -> list:
    return [Chem.MolFromSmiles(s) for s in SMILES]


@pytest.mark.parametrize("name", sorted(FP_TYPES))
def test_packed_tanimoto_equals_rdkit(name: str, mols: list) -> None:
    """Exact equality (no tolerance): same bits, same float64 formula as BulkTanimotoSimilarity."""
    f = Fingerprinter(fingerprint_spec(name))
    packed = f.pack_many(mols)
    bvs = [f.bitvect(m) for m in mols]
    assert packed.dtype == np.uint64 and packed.shape == (len(mols), f.spec.words)
    assert popcount(packed).tolist() == [bv.GetNumOnBits() for bv in bvs]
    for i in range(len(mols)):
        assert tanimoto(packed[i], packed).tolist() == DataStructs.BulkTanimotoSimilarity(bvs[i], bvs)


@pytest.mark.parametrize("bits", [1024, 2048])
def test_morgan_bit_positions_match_rdkit(bits: int, mols: list) -> None:
    f = Fingerprinter(fingerprint_spec("morgan2", bits))
    for m in mols:
        on = np.nonzero(unpack_bits(f.pack(m), bits)[0])[0].tolist()
        assert on == list(f.bitvect(m).GetOnBits())


def test_pack_roundtrip_and_bit_order() -> None:
    bits = np.zeros((2, 130), dtype=np.uint8)
    bits[0, [0, 63, 64, 129]] = 1
    packed = pack_bits(bits, 3)
    assert packed[0].tolist() == [1 | (1 << 63), 1, 2]
    assert packed[1].tolist() == [0, 0, 0]
    assert (unpack_bits(packed, 130) == bits).all()
    assert common_bits(packed[0], packed).tolist() == [4, 0]


def test_empty_fingerprints_score_zero_like_rdkit() -> None:
    z = np.zeros((1, 2), dtype=np.uint64)
    assert tanimoto(z[0], z).tolist() == [0.0]
    e = DataStructs.ExplicitBitVect(128)
    assert DataStructs.TanimotoSimilarity(e, e) == 0.0


def test_maccs_padded_to_three_words(mols: list) -> None:
    f = Fingerprinter(fingerprint_spec("maccs"))
    assert f.spec.bits == 167 and f.spec.words == 3
    assert f.pack(mols[0])[2] >> np.uint64(167 - 128) == 0  # no bits beyond 167


def test_bad_specs_raise_input_error() -> None:
    with pytest.raises(InputError, match="unknown fingerprint"):
        fingerprint_spec("ecfp99")
    with pytest.raises(InputError, match="does not come in 512 bits"):
        fingerprint_spec("morgan2", 512)
    assert fingerprint_spec("ECFP4").name == "morgan2"
