"""Polygenic scoring reproduces plink2 on the CINECA synthetic chr22 set (pgsc_calc's own test)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from theralab.errors import InputError
from theralab.precision.risk import (
    Genotypes,
    ReferencePanel,
    absolute_risk,
    is_ambiguous,
    match_variants,
    read_bed,
    read_pgen,
    read_scoring_file,
    read_vcf,
    score,
)

COLS = ["ALLELE_CT", "DENOM", "NAMED_ALLELE_DOSAGE_SUM", "PGS001229_22_AVG", "PGS001229_22_SUM"]


@pytest.fixture(scope="module")
def prs_dir(shared_data):
    return shared_data / "precision" / "prs_test"


@pytest.fixture(scope="module")
def expected(prs_dir):
    return pd.read_csv(prs_dir / "cineca_22_additive_0.sscore", sep="\t").rename(columns={"#IID": "IID"})


@pytest.mark.parametrize("reader", ["bed", "pgen", "vcf"])
def test_reproduces_plink2_sscore(prs_dir, expected, reader):
    scoring = read_scoring_file(prs_dir / "PGS001229_22.txt", name="PGS001229_22")
    assert scoring.header["format_version"] == "2.0" and scoring.genome_build == "GRCh37"
    prefix = prs_dir / "cineca_synthetic_subset"
    genotypes = {"bed": lambda: read_bed(prefix), "pgen": lambda: read_pgen(prefix),
                 "vcf": lambda: read_vcf(f"{prefix}.vcf.gz")}[reader]()
    result = score(scoring, genotypes)
    assert result.match.counts == {"matched": 782, "ambiguous": 47, "absent": 6}
    assert any("6 scoring variants are absent" in n for n in result.notes)
    ours = result.scores.assign(IID=result.scores["IID"].str.split("_").str[-1])  # VCF names are FID_IID
    merged = expected.merge(ours, on="IID", suffixes=("_plink2", "_ours"))
    assert len(merged) == 2504
    for col in COLS[:3]:
        assert (merged[f"{col}_plink2"] == merged[f"{col}_ours"]).all(), col
    # plink2 writes 6 significant digits, so 1e-5 absolute is the resolution of its file
    for col in COLS[3:]:
        np.testing.assert_allclose(merged[f"{col}_ours"], merged[f"{col}_plink2"], atol=1e-5, rtol=0)
    # samples with missing calls were mean-imputed: their ALLELE_CT is below 2 x 782
    assert (merged["ALLELE_CT_ours"] < 1564).sum() == 41


def _toy(dosages, ref, alt, pos=None):
    dos = np.asarray(dosages, dtype=np.float32)  # samples x variants
    n = dos.shape[1]
    variants = pd.DataFrame({"chrom": ["1"] * n, "pos": pos or list(range(100, 100 + n)), "id": ["."] * n,
                             "ref": ref, "alt": alt})
    return Genotypes(variants=variants, samples=[f"s{i}" for i in range(dos.shape[0])],
                     loader=lambda idx: dos[:, idx])


def _scorefile(rows, build="GRCh37"):
    text = f"#format_version=2.0\n#pgs_id=T\n#genome_build={build}\n" \
           "chr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n"
    text += "".join("\t".join(map(str, r)) + "\n" for r in rows)
    return read_scoring_file(io.StringIO(text), name="T")


def test_strand_flip_swap_ambiguous_and_mean_imputation_by_hand():
    # v0 REF A/ALT G, effect G (=ALT), w=1; v1 REF C/ALT T, effect A other G: complements T/C, so
    # effect = ALT after a flip, w=2; v2 REF G/ALT A, effect G (=REF), w=0.5; v3 A/T ambiguous, w=10
    geno = _toy([[0, 1, 2, 1], [2, np.nan, 0, 2], [1, 2, np.nan, 0]],
                ref=["A", "C", "G", "A"], alt=["G", "T", "A", "T"])
    sf = _scorefile([(1, 100, "G", "A", 1.0), (1, 101, "A", "G", 2.0), (1, 102, "G", "A", 0.5),
                     (1, 103, "A", "T", 10.0), (1, 999, "C", "T", 3.0)])
    report = match_variants(sf, geno)
    assert list(report.table["match_type"]) == ["altref", "altref_flip", "refalt", "", ""]
    assert report.counts == {"matched": 3, "ambiguous": 1, "absent": 1}
    res = score(sf, geno).scores
    # effect dosages: v0 = alt; v1 = alt (flip of altref); v2 = 2 - alt. Missing -> 2 x mean frequency:
    # v1 called [1, 2] -> f = 3/4 -> 1.5; v2 called [0, 2] effect dosages [2, 0] -> f = 1/2 -> 1.0
    s0 = 0 * 1 + 1 * 2 + (2 - 2) * 0.5
    s1 = 2 * 1 + 1.5 * 2 + (2 - 0) * 0.5
    s2 = 1 * 1 + 2 * 2 + 1.0 * 0.5
    np.testing.assert_allclose(res["T_SUM"], [s0, s1, s2])
    assert list(res["ALLELE_CT"]) == [6, 4, 4] and list(res["DENOM"]) == [6, 6, 6]
    np.testing.assert_allclose(res["T_AVG"], np.array([s0, s1, s2]) / 6)
    # keeping the ambiguous SNP takes it on the stated strand: effect A = REF -> 2 - alt
    kept = score(sf, geno, keep_ambiguous=True).scores
    np.testing.assert_allclose(kept["T_SUM"] - res["T_SUM"], [10 * 1, 10 * 0, 10 * 2])
    assert is_ambiguous("C", "G") and not is_ambiguous("C", "T")


def test_other_build_refused_with_reason():
    geno = _toy([[0]], ref=["A"], alt=["G"])
    geno.build = "GRCh38"
    sf = _scorefile([(1, 100, "G", "A", 1.0)], build="hg19")
    with pytest.raises(InputError, match="GRCh37 but the genotypes are on GRCh38"):
        score(sf, geno)


def test_low_match_rate_and_bad_weight_refused():
    geno = _toy([[0]], ref=["A"], alt=["G"])
    sf = _scorefile([(1, 100, "G", "A", 1.0), (1, 500, "G", "A", 1.0)])
    with pytest.raises(InputError, match="only 50.0%"):
        score(sf, geno, min_match_rate=0.75)
    with pytest.raises(InputError, match="not a number"):
        _scorefile([(1, 100, "G", "A", "abc")])


def test_percentiles_standardisation_and_absolute_risk():
    rng = np.random.default_rng(0)
    ref = np.concatenate([rng.normal(0, 1, 500), rng.normal(3, 2, 500)])
    groups = ["EUR"] * 500 + ["AFR"] * 500
    panel = ReferencePanel.fit(ref, groups)
    z, used, caveat = panel.standardise(3.0, "AFR")
    assert used == "AFR" and caveat is None and abs(z) < 0.2  # near the AFR mean, far above EUR's
    assert panel.standardise(3.0, "EUR")[0] > 2.5
    assert panel.standardise(0.0, "SAS")[1] == "ALL" and "not in the reference" in panel.standardise(0, "SAS")[2]
    tiny = ReferencePanel.fit([1.0, 2.0, 3.0, 4.0])
    assert tiny.percentile(2.5) == 50.0 and tiny.percentile(3.0) == 62.5 and tiny.percentile(9) == 100.0
    # OR 1 -> everyone has the baseline; the population mean risk equals the incidence
    assert absolute_risk(2.0, 0.1, 1.0) == pytest.approx(0.1)
    zs = rng.normal(size=200_000)
    assert absolute_risk(zs, 0.1, 1.5).mean() == pytest.approx(0.1, abs=2e-3)
    assert absolute_risk(1.0, 0.1, 1.5) > 0.1 > absolute_risk(-1.0, 0.1, 1.5)
    with pytest.raises(InputError):
        absolute_risk(0.0, 1.5, 1.2)
