"""PGx never reassures wrongly: undetermined genes, CYP2D6 structural calls, outside-call files,
absent defining positions, silent build, damaged files and captured warnings (issue 19)."""

from __future__ import annotations

import shutil
import struct
import warnings
import zlib
from pathlib import Path

import pytest

from theralab.errors import InputError
from theralab.precision.pgx.definitions import get_gene, load_definitions
from theralab.precision.pgx.phenotype import phenotype_for
from theralab.precision.pgx.recommend import medication_review
from theralab.precision.pgx.report import build_result, call_vcf, read_outside_calls, to_html
from theralab.precision.pgx.vcf_checks import BGZF_EOF

HEADER = (
    "##fileformat=VCFv4.2\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
)


def _vcf(path: Path, rows: list[tuple[str, int, str, str, str]], header: str = HEADER) -> Path:
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    path.write_text(header + "".join(f"{c}\t{p}\t.\t{r}\t{a}\t.\tPASS\t.\tGT\t{gt}\n" for c, p, r, a, gt in rows))
    return path


def test_codeine_without_cyp2d6_says_not_determined_never_no_change() -> None:
    res = build_result("S", {}, outside={"CYP2C19": "*1/*1"}, medications=["codeine", "clopidogrel", "aspirin"])
    by = {m["drug"]: m for m in res.medications}
    assert by["codeine"]["status"] == "gene not determined"
    assert by["codeine"]["undetermined"] == {"CYP2D6": "no result (not tested or not called)"}
    assert "Genotype CYP2D6 before prescribing codeine" in by["codeine"]["advice"][0]
    assert by["clopidogrel"]["status"] == "no change needed"  # a called normal metaboliser
    assert by["aspirin"]["status"] == "no CPIC guideline"
    html = to_html(res)
    assert "gene not determined" in html and "Genotype CYP2D6" in html
    # an indeterminate phenotype is not a result either
    ind = medication_review(["codeine"], {"CYP2D6": phenotype_for("CYP2D6", "*1/*999")})
    assert ind[0]["status"] == "gene not determined" and "indeterminate" in ind[0]["undetermined"]["CYP2D6"]


def test_web_page_shows_not_determined(api, test_data) -> None:  # noqa: ANN001
    api.post("/login", data={"username": "doc", "password": "password-doc", "next": "/"}, follow_redirects=False)
    vcf = (test_data / "pgx" / "two_samples.vcf").read_bytes()
    page = api.post(
        "/pgx", data={"medications": "codeine", "sample": "S1"}, files={"vcf": ("s.vcf", vcf, "text/plain")}
    )
    assert page.status_code == 200, page.text[:300]
    assert "No result — cannot advise" in page.text  # the page's words for "gene not determined"
    assert "No change needed (genotype known)" not in page.text
    assert "Genotype CYP2D6 before prescribing codeine" in page.text


@pytest.mark.parametrize(
    ("diplotype", "score", "phenotype"),
    [
        # CPIC CYP2D6 allele functionality table: *1 = 1, *10 = 0.25, *36 = 0 (a duplicated *36 adds 0)
        ("*1/*36x2+*10", "1.25", "Normal Metabolizer"),
        ("*4/*36+*10", "0.25", "Intermediate Metabolizer"),
        ("*36+*10/*36+*10", "0.5", "Intermediate Metabolizer"),
        ("*1/*4x2", "1.0", "Intermediate Metabolizer"),  # in CPIC's own diplotype table
    ],
)
def test_cyp2d6_structural_activity(diplotype: str, score: str, phenotype: str) -> None:
    p = phenotype_for("CYP2D6", diplotype)
    assert (p.phenotype, p.activity_score, p.lookup_key) == (phenotype, score, score)


def test_pharmcat_outside_calls_with_empty_diplotype(tmp_path: Path) -> None:
    f = tmp_path / "outside.tsv"
    f.write_text("CYP2D6\t*1/*36x2+*10\nG6PD\t\tDeficient\nCYP2C9\t\t\t1.0\n# comment\n")
    oc = read_outside_calls(f)
    assert oc["G6PD"].diplotype is None and oc["G6PD"].phenotype == "Deficient"
    res = build_result("S", {}, outside=oc, medications=["rasburicase", "codeine", "celecoxib"])
    assert res.phenotypes["G6PD"].lookup_key == "Deficient"
    assert res.phenotypes["CYP2C9"].phenotype == "Intermediate Metabolizer"
    assert res.phenotypes["CYP2D6"].phenotype == "Normal Metabolizer"
    by = {m["drug"]: m for m in res.medications}
    assert by["rasburicase"]["status"] == "action needed"
    assert by["celecoxib"]["status"] == "action needed"
    assert "G6PD" in res.calls["G6PD"].explain()
    bad = tmp_path / "bad.tsv"
    bad.write_text("G6PD\t\t\t\n")
    with pytest.raises(InputError) as e:
        read_outside_calls(bad)
    assert e.value.where.endswith(":1")


def test_absent_defining_position_cannot_be_excluded(tmp_path: Path) -> None:
    d = get_gene("CYP2B6")
    # rs2279343 (785A>G) alone defines *4; with 516G>T (rs3745274) it is *6
    rows = [(p.chrom, p.pos, p.ref, p.alts[0], "0/0") for p in d.positions if p.alts and p.rsid != "rs2279343"]
    assert len(rows) == len([p for p in d.positions if p.alts]) - 1
    vcf = _vcf(tmp_path / "no785.vcf", rows, HEADER.replace("##FORMAT", "##reference=GRCh38\n##FORMAT"))
    r = call_vcf(vcf, genes=("CYP2B6",))[0]
    call = r.calls["CYP2B6"]
    assert [x.name for x in call.diplotypes] == ["*1/*1"]
    assert "*4" in call.not_excluded  # could be hiding at the absent position
    assert "*6" not in call.not_excluded  # ruled out: its other variant (516G>T) was seen as reference
    assert "*4" in call.not_excluded_text() and "cannot be excluded" in call.explain()
    assert "cannot be excluded" in to_html(r)
    # a complete VCF has nothing to flag
    full = [(p.chrom, p.pos, p.ref, p.alts[0], "0/0") for p in d.positions if p.alts]
    r2 = call_vcf(_vcf(tmp_path / "full.vcf", full, HEADER.replace("##FORMAT", "##reference=GRCh38\n##FORMAT")),
                  genes=("CYP2B6",))[0]
    assert r2.calls["CYP2B6"].not_excluded == [] or len(r2.calls["CYP2B6"].missing_positions) > 0


def test_grch37_detected_from_variants_when_header_is_silent(tmp_path: Path) -> None:
    d37 = load_definitions(build="GRCh37")["CYP2C19"]
    rows = [(p.chrom, p.pos, p.ref, p.alts[0] if p.alts else "N", "0/0") for p in d37.positions if p.alts]
    star2 = next(a for a in d37.alleles if a.name == "*2").variant_cells(d37.positions)
    pos = {d37.positions[i].pos: alt for i, alt in star2.items()}
    rows = [r if r[1] not in pos else (r[0], r[1], r[2], pos[r[1]], "0/1") for r in rows]
    r = call_vcf(_vcf(tmp_path / "b37.vcf", rows), genes=("CYP2C19",))[0]
    assert any("GRCh37 was detected from the variants" in w for w in r.warnings)
    assert "*2" in r.calls["CYP2C19"].diplotypes[0].name.split("/")
    assert r.phenotypes["CYP2C19"].phenotype == "Intermediate Metabolizer"
    nothing = _vcf(tmp_path / "none.vcf", [("chr1", 1000, "A", "G", "0/1")])
    with pytest.raises(InputError, match="genome build cannot be determined"):
        call_vcf(nothing)


def _bgzf(data: bytes, block: int = 500) -> bytes:
    """A multi-block BGZF file (SAM spec 4.1), so a cut leaves whole blocks before it."""
    out = b""
    for k in range(0, len(data), block):
        chunk = data[k : k + block]
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        comp = c.compress(chunk) + c.flush()
        out += b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00" + struct.pack("<H", len(comp) + 25)
        out += comp + struct.pack("<II", zlib.crc32(chunk), len(chunk))
    return out + BGZF_EOF


def test_truncated_or_corrupt_bgzip_refused_whatever_the_index(test_data: Path, tmp_path: Path) -> None:
    data = _bgzf((test_data / "pgx" / "two_samples.vcf").read_bytes())
    full = tmp_path / "full.vcf.gz"
    full.write_bytes(data)
    assert call_vcf(full, all_samples=True)[0].calls["CYP2C19"].diplotypes[0].name == "*2/*17"
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[: len(data) * 3 // 4])  # before: a bare htslib Exception (a traceback)
    with pytest.raises(InputError, match="truncated"):
        call_vcf(cut, all_samples=True)
    # a stale index beside a cut file changes nothing: the file itself is checked
    src = test_data / "pgx" / "two_samples.vcf.gz"
    shutil.copy(str(src) + ".tbi", str(cut) + ".tbi")
    with pytest.raises(InputError, match="truncated"):
        call_vcf(cut, all_samples=True)
    bad = tmp_path / "bad.vcf.gz"
    mid = bytearray(data)
    for k in range(len(data) // 2, len(data) // 2 + 40):
        mid[k] ^= 0xFF
    bad.write_bytes(bytes(mid))
    with pytest.raises(InputError, match="corrupt|CRC"):
        call_vcf(bad, all_samples=True)


def test_python_warnings_go_into_the_report(test_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import theralab.precision.pgx.report as rep

    original = rep.match_gene

    def noisy(*a, **k):  # noqa: ANN002, ANN003 - pass-through
        warnings.warn("library noise", RuntimeWarning, stacklevel=1)
        return original(*a, **k)

    monkeypatch.setattr(rep, "match_gene", noisy)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = call_vcf(test_data / "pgx" / "two_samples.vcf", sample="S1")[0]
    assert not [w for w in seen if "library noise" in str(w.message)]
    assert res.warnings.count("RuntimeWarning: library noise") == 1


def test_htslib_messages_go_into_the_report(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    d = get_gene("CYP2C19")
    rows = [(p.chrom, p.pos, p.ref, p.alts[0], "0/0") for p in d.positions if p.alts]
    vcf = _vcf(tmp_path / "nocontig.vcf", rows, HEADER.replace("##FORMAT", "##reference=GRCh38\n##FORMAT"))
    res = call_vcf(vcf, genes=("CYP2C19",))[0]
    err = capfd.readouterr().err
    assert "vcf_parse" not in err  # htslib's raw line no longer reaches the terminal
    assert any(w.startswith("htslib: ") and "not defined in the header" in w for w in res.warnings)
