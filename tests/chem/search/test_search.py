"""The search engine must return exactly what a brute-force RDKit scan returns.

Reference: ``DataStructs.BulkTanimotoSimilarity`` over the same RDKit bit vectors, ordered by
similarity descending then input order; hits are compared id by id and similarity by similarity
with exact float equality (no tolerance: both sides compute ``c / (a + b - c)`` in float64).
Both the numba kernels and the numpy fallback are checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem, DataStructs

from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec
from theralab.chem.search import HAVE_NUMBA, FingerprintIndex, build_index
from theralab.errors import InputError, NotFoundError

EXTERNAL = ["CC(=O)Nc1ccc(O)cc1", "Cn1c(CN2CCN(CC2)c3ccc(Cl)cc3)nc4ccccc14", "O=C(O)c1ccccc1O"]
BACKENDS = [True, False] if HAVE_NUMBA else [False]


class Brute:
    """Brute-force reference over an index's molecules, in input order."""

    def __init__(self, index_dir: Path, fp: str, bits: int) -> None:
        table = pd.read_parquet(index_dir / "molecules.parquet").sort_values("ordinal")
        self.ids = table["id"].tolist()
        self.smiles = table["smiles"].tolist()
        self.f = Fingerprinter(fingerprint_spec(fp, bits))
        self.mols = [Chem.MolFromSmiles(s) for s in self.smiles]
        self.bvs = [self.f.bitvect(m) for m in self.mols]

    def ranked(self, query: str) -> tuple[list[str], list[float]]:
        sims = np.array(DataStructs.BulkTanimotoSimilarity(self.f.bitvect(Chem.MolFromSmiles(query)), self.bvs))
        order = np.lexsort((np.arange(len(sims)), -sims))  # stable: ties in input order
        return [self.ids[i] for i in order], sims[order].tolist()


@pytest.fixture(scope="module")
def lipo(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Brute]:
    out = tmp_path_factory.mktemp("lipo") / "idx"
    build_index(shared_data / "discovery/moleculenet/lipo.csv", out, chunk_size=1000, workers=2)
    return out, Brute(out, "morgan2", 2048)


@pytest.fixture(scope="module")
def comt(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Brute]:
    out = tmp_path_factory.mktemp("comt") / "idx"
    build_index(
        shared_data / "discovery/dude/comt/decoys_final.ism",
        out,
        fp="atompair",
        bits=1024,
        chunk_size=2000,
        workers=1,
        substructure=False,
    )
    return out, Brute(out, "atompair", 1024)


def _queries(brute: Brute) -> list[str]:
    return EXTERNAL + [brute.smiles[i] for i in (0, 17, 500, 2222, len(brute.smiles) - 1)]


@pytest.mark.parametrize("use_numba", BACKENDS)
@pytest.mark.parametrize("which", ["lipo", "comt"])
def test_threshold_equals_brute_force(which: str, use_numba: bool, request: pytest.FixtureRequest) -> None:
    path, brute = request.getfixturevalue(which)
    index = FingerprintIndex.open(path, use_numba=use_numba)
    for q in _queries(brute):
        ids, sims = brute.ranked(q)
        for t in (0.25, 0.4, 0.55, 0.7, 1.0):
            n = sum(s >= t for s in sims)
            res = index.similarity(q, t)
            assert [h.id for h in res.hits] == ids[:n], (q, t)
            assert [h.similarity for h in res.hits] == sims[:n], (q, t)


@pytest.mark.parametrize("use_numba", BACKENDS)
@pytest.mark.parametrize("which", ["lipo", "comt"])
def test_top_k_equals_brute_force(which: str, use_numba: bool, request: pytest.FixtureRequest) -> None:
    path, brute = request.getfixturevalue(which)
    index = FingerprintIndex.open(path, use_numba=use_numba)
    for q in _queries(brute):
        ids, sims = brute.ranked(q)
        for k in (1, 10, 100):
            res = index.top_k(q, k)
            assert [h.id for h in res.hits] == ids[:k], (q, k)
            assert [h.similarity for h in res.hits] == sims[:k], (q, k)


def test_batch_equals_single_queries(lipo: tuple[Path, Brute]) -> None:
    """Batches (top-k: queries grouped by popcount sharing one pass; thresholds: one query per
    thread) change nothing."""
    path, brute = lipo
    index = FingerprintIndex.open(path)
    queries = _queries(brute)
    batch = index.search_many(queries, k=10, threads=2)
    assert [r.to_dict() for r in batch] == [index.top_k(q, 10).to_dict() for q in queries]
    for t in (0.3, 0.5, 0.8):
        batch = index.search_many(queries, threshold=t, threads=2)
        assert [r.to_dict() for r in batch] == [index.similarity(q, t).to_dict() for q in queries]
        assert [len(r.hits) for r in batch] == [sum(s >= t for s in brute.ranked(q)[1]) for q in queries]


@pytest.mark.skipif(not HAVE_NUMBA, reason="the sketches serve the numba kernels only")
def test_index_without_sketch_files_derives_them(lipo: tuple[Path, Brute], tmp_path: Path) -> None:
    """An index written before the sketch files existed answers the same, and gains the files."""
    import shutil

    path, brute = lipo
    old = tmp_path / "old"
    shutil.copytree(path, old)
    for name in ("sketch128_cols.u64", "sketch256_rows.u64"):
        (old / name).unlink()
    index = FingerprintIndex.open(old)
    for q in _queries(brute)[:4]:
        ids, sims = brute.ranked(q)
        got = index.top_k(q, 10)
        assert [h.id for h in got.hits] == ids[:10] and [h.similarity for h in got.hits] == sims[:10]
    assert (old / "sketch128_cols.u64").stat().st_size == (path / "sketch128_cols.u64").stat().st_size
    assert (old / "sketch256_rows.u64").read_bytes() == (path / "sketch256_rows.u64").read_bytes()


@pytest.mark.parametrize("use_numba", BACKENDS)
def test_substructure_equals_rdkit_scan(lipo: tuple[Path, Brute], use_numba: bool) -> None:
    path, brute = lipo
    index = FingerprintIndex.open(path, use_numba=use_numba)
    for smarts in ("c1ccc2[nH]ccc2c1", "C(=O)N", "[#6]S(=O)(=O)[NX3]", "c1ccncc1Cl"):
        patt = Chem.MolFromSmarts(smarts)
        expected = [i for i, m in zip(brute.ids, brute.mols, strict=True) if m.HasSubstructMatch(patt)]
        res = index.substructure(smarts)
        assert [h.id for h in res.hits] == expected, smarts
        assert len(expected) > 0
    assert len(index.substructure("C(=O)N", max_hits=7).hits) == 7


def test_similarity_with_substructure_filter(lipo: tuple[Path, Brute]) -> None:
    path, brute = lipo
    index = FingerprintIndex.open(path)
    q, smarts = EXTERNAL[1], "c1ccccc1Cl"
    patt = Chem.MolFromSmarts(smarts)
    has = dict(zip(brute.ids, (m.HasSubstructMatch(patt) for m in brute.mols), strict=True))
    ids, sims = brute.ranked(q)
    want = [(i, s) for i, s in zip(ids, sims, strict=True) if has[i]]
    res = index.top_k(q, 10, substructure=smarts)
    assert [(h.id, h.similarity) for h in res.hits] == want[:10]
    res = index.similarity(q, 0.3, substructure=smarts)
    assert [(h.id, h.similarity) for h in res.hits] == [w for w in want if w[1] >= 0.3]


def test_manifest_and_sorted_layout(lipo: tuple[Path, Brute]) -> None:
    path, brute = lipo
    m = json.loads((path / "manifest.json").read_text())
    assert m["count"] == len(brute.ids) == 4200 and m["invalid"] == 0
    assert m["fp"]["name"] == "morgan2" and m["fp"]["bits"] == 2048 and m["chunks"] == 5
    assert m["provenance"]["rdkit"] and m["build_config"]["source"]["size"] > 0
    index = FingerprintIndex.open(path)
    packed = index.rows(np.arange(len(index)))
    counts = np.bitwise_count(packed).sum(axis=1)
    assert index.fps.shape == (4, 4200, 8) and m["format"] == 2  # line-major: 4 cache lines per row
    assert (np.diff(counts) >= 0).all()
    assert index.offsets[-1] == len(index) and (counts[index.offsets[counts[100]]] == counts[100])
    cols = np.fromfile(path / "sketch128_cols.u64", dtype="<u8").reshape(2, 4200)
    rows256 = np.fromfile(path / "sketch256_rows.u64", dtype="<u8").reshape(4200, 4)
    for sketch, words in ((cols.T, 2), (rows256, 4)):  # word k = OR of the words w with w % words == k
        folded = np.bitwise_or.reduce(packed.reshape(4200, 32 // words, words), axis=1)
        assert (sketch == folded).all()
    assert not (path / "build").exists()


def _smi(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "lib.smi"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_invalid_rows_and_duplicates_reported(tmp_path: Path) -> None:
    lib = _smi(
        tmp_path,
        [
            "CCO ethanol",
            "C1CC broken_ring",
            "c1cccc1 bad_arom",
            "OCC ethanol_again",
            "CN(C)(C)(C)C pentavalent_n",
            "c1ccccc1O phenol",
            "Oc1ccccc1 phenol2",
        ],
    )
    m = build_index(lib, tmp_path / "idx", workers=1)
    assert (m["count"], m["invalid"], m["duplicates"]) == (4, 3, 2)
    bad = pd.read_csv(tmp_path / "idx/invalid.csv")
    assert bad["id"].tolist() == ["broken_ring", "bad_arom", "pentavalent_n"]
    assert "syntax" in bad["reason"][0] and bad["reason"][1].startswith("sanitization failed")
    assert "valence" in bad["reason"][2].lower()
    dups = pd.read_csv(tmp_path / "idx/duplicates.csv")
    assert dict(zip(dups["id"], dups["duplicate_of"], strict=True)) == {
        "ethanol_again": "ethanol",
        "phenol2": "phenol",
    }


def test_duplicate_check_can_be_skipped(tmp_path: Path) -> None:
    lib = _smi(tmp_path, ["CCO a", "OCC b", "c1ccccc1O c"])
    m = build_index(lib, tmp_path / "idx", workers=1, duplicates=False)
    assert (m["count"], m["duplicates"], m["duplicates_checked"]) == (3, 0, False)
    assert FingerprintIndex.open(tmp_path / "idx").similarity("CCO", 1.0).to_frame()["id"].tolist() == ["a", "b"]


class Crash(RuntimeError):
    pass


def test_resume_after_crash(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "discovery/moleculenet/delaney.csv"
    clean = build_index(src, tmp_path / "clean", chunk_size=200, workers=1)
    seen = []

    def die_after_two_chunks(n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise Crash("simulated kill")

    out = tmp_path / "idx"
    with pytest.raises(Crash):
        build_index(src, out, chunk_size=200, workers=1, progress=die_after_two_chunks)
    assert sorted(p.name for p in (out / "build").glob("chunk_*.parquet")) == [
        "chunk_000000.parquet",
        "chunk_000001.parquet",
    ]
    (out / "build/chunk_000002.tmp.npz").write_bytes(b"torn write")  # a half-written chunk is ignored
    with pytest.raises(NotFoundError, match="no fingerprint index") as err:
        FingerprintIndex.open(out)
    assert "resume" in (err.value.hint or "")
    with pytest.raises(InputError, match="other settings"):
        build_index(src, out, chunk_size=100, workers=1)
    m = build_index(src, out, chunk_size=200, workers=1)
    assert m["resumed_chunks"] == 2 and m["chunks"] == clean["chunks"] == 6
    for name in ("fps.u64", "pattern.u64", "offsets.npy", "ordinal.npy"):
        assert (out / name).read_bytes() == (tmp_path / "clean" / name).read_bytes()
    assert pd.read_parquet(out / "molecules.parquet").equals(pd.read_parquet(tmp_path / "clean/molecules.parquet"))
    again = build_index(src, out, chunk_size=200, workers=1)  # finished: a no-op
    assert again["built_at"] == m["built_at"]


def test_empty_library_and_missing_index(tmp_path: Path) -> None:
    lib = _smi(tmp_path, ["C1CC bad", "not_a_smiles x"])
    with pytest.raises(InputError, match="no valid molecule"):
        build_index(lib, tmp_path / "idx", workers=1)
    assert len(pd.read_csv(tmp_path / "idx/invalid.csv")) == 2
    with pytest.raises(NotFoundError):
        FingerprintIndex.open(tmp_path / "nowhere")
    with pytest.raises(NotFoundError):
        build_index(tmp_path / "missing.smi", tmp_path / "x")
    with pytest.raises(InputError, match="SMILES column"):
        (tmp_path / "t.csv").write_text("a,b\n1,2\n")
        build_index(tmp_path / "t.csv", tmp_path / "y")


def test_bad_queries(lipo: tuple[Path, Brute]) -> None:
    index = FingerprintIndex.open(lipo[0])
    with pytest.raises(InputError, match="not a valid SMILES") as err:
        index.similarity("C1CC(", 0.7)
    assert err.value.where == "query"
    with pytest.raises(InputError, match="empty"):
        index.top_k("  ", 5)
    with pytest.raises(InputError, match="threshold"):
        index.similarity("CCO", 1.5)
    with pytest.raises(InputError, match="k must be"):
        index.top_k("CCO", 0)
    with pytest.raises(InputError, match="SMARTS"):
        index.substructure("[C")
    with pytest.raises(InputError) as err:
        index.search_many(["CCO", "xyz"], k=3)
    assert err.value.where == "query 2"


def _dies_on_third_chunk(records, kind, spec_d, substructure, out_stem, *rest):  # type: ignore[no-untyped-def]
    """Stands in for a worker that is killed (OOM, node loss) while fingerprinting one chunk."""
    import os

    from theralab.chem.search import index as search_index

    if out_stem.endswith("chunk_000002"):
        os._exit(1)
    return search_index.__dict__["_real_process_chunk"](records, kind, spec_d, substructure, out_stem, *rest)


def test_killed_worker_then_resume(tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures.process import BrokenProcessPool

    from theralab.chem.search import index as search_index

    src = shared_data / "discovery/moleculenet/freesolv.csv"
    clean = build_index(src, tmp_path / "clean", chunk_size=100, workers=1, substructure=False)
    monkeypatch.setattr(search_index, "_real_process_chunk", search_index.process_chunk, raising=False)
    monkeypatch.setattr(search_index, "process_chunk", _dies_on_third_chunk)
    out = tmp_path / "idx"
    with pytest.raises(BrokenProcessPool):
        build_index(src, out, chunk_size=100, workers=2, substructure=False)
    assert not (out / "build/chunk_000002.parquet").exists() and not (out / "manifest.json").exists()
    monkeypatch.undo()
    m = build_index(src, out, chunk_size=100, workers=2, substructure=False)
    assert m["count"] == clean["count"] == 642 and m["chunks"] == 7
    assert (out / "fps.u64").read_bytes() == (tmp_path / "clean/fps.u64").read_bytes()


def test_sdf_and_parquet_libraries(tmp_path: Path) -> None:
    smiles = ["CC(=O)Nc1ccc(O)cc1", "CC(=O)Oc1ccccc1C(=O)O", "O=C(O)c1ccccc1O", "CCO"]
    sdf = tmp_path / "lib.sdf"
    with Chem.SDWriter(str(sdf)) as w:
        for i, smi in enumerate(smiles):
            mol = Chem.MolFromSmiles(smi)
            mol.SetProp("_Name", f"title{i}")
            mol.SetProp("cid", f"C{i}")
            w.write(mol)
    m = build_index(sdf, tmp_path / "sdf_idx", id_column="cid", workers=1)
    assert m["count"] == 4
    hits = FingerprintIndex.open(tmp_path / "sdf_idx").top_k("CC(=O)Nc1ccc(O)cc1", 1).hits
    assert hits[0].id == "C0" and hits[0].similarity == 1.0
    build_index(sdf, tmp_path / "sdf_idx2", workers=1)
    assert FingerprintIndex.open(tmp_path / "sdf_idx2").top_k("CCO", 1).hits[0].id == "title3"
    pq_path = tmp_path / "lib.parquet"
    pd.DataFrame({"compound_id": ["a", "b", "c", "d"], "SMILES": smiles}).to_parquet(pq_path)
    m = build_index(pq_path, tmp_path / "pq_idx", workers=1)
    hits = FingerprintIndex.open(tmp_path / "pq_idx").similarity("O=C(O)c1ccccc1O", 1.0).hits
    assert [(h.id, h.smiles) for h in hits] == [("c", "O=C(O)c1ccccc1O")]
