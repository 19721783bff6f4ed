"""Property tests of the PGx VCF reader (issue 18 part 9): a VCF with any header lines, records and
genotypes (or any bytes at all) gives genotypes or the project's InputError, never another exception
(and never a crash of the C library underneath)."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theralab.errors import InputError

BOUNDED = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = ["##fileformat=VCFv4.2", '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
          "##contig=<ID=chr10,length=133797422>"]
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"


@lru_cache(maxsize=1)
def _definitions():
    from theralab.precision.pgx.definitions import load_definitions

    return load_definitions()


bases = st.text(alphabet="ACGTN.*<>", min_size=0, max_size=4)
field = st.text(alphabet="0123456789ACGT./|;=,:chr-", max_size=10)
genotype = st.sampled_from(["0/0", "0/1", "1/1", "./.", "0|1", "1", "2/3", "", ".", "0/0/1"]) | field
record = st.tuples(st.sampled_from(["chr10", "10", "chrX", ""]) | field,
                   st.sampled_from(["94761900", "94842866", "0", "-1", "99999999999"]) | field,
                   bases, bases, st.sampled_from(["GT", "GT:DP", "", "DP"]), genotype)
extra_header = st.lists(st.sampled_from([
    "##reference=GRCh37", "##reference=hg38", "##INFO=<ID=X>", "##FORMAT=<ID=GT", "##contig=<ID=chr10>", "#", "",
]) | st.text(alphabet="#=<>,ID\t abc", max_size=20), max_size=3)


def _vcf_text(extra: list[str], records: list[tuple[str, ...]], columns: bool) -> str:
    lines = HEADER + extra + ([COLUMNS] if columns else [])
    for chrom, pos, ref, alt, fmt, gt in records:
        lines.append("\t".join([chrom, pos, ".", ref, alt, ".", "PASS", ".", fmt, gt]))
    return "\n".join(lines) + "\n"


def _read(data: bytes) -> None:
    from theralab.precision.pgx.vcf import read_vcf

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.vcf"
        path.write_bytes(data)
        try:
            result = read_vcf(path, _definitions(), sample=None)
            assert isinstance(result, list)
        except InputError as exc:
            assert exc.message


@BOUNDED
@given(extra_header, st.lists(record, max_size=5), st.booleans())
def test_any_vcf_records_give_genotypes_or_input_error(extra, records, columns):
    _read(_vcf_text(extra, records, columns).encode())


@BOUNDED
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_as_vcf_give_input_error_or_genotypes(data):
    _read(data)


def test_non_utf8_sample_name_found_by_atheris_is_an_input_error():
    """benchmarks/fuzz.py (atheris) found that a sample name that is not UTF-8 escaped the reader as a
    UnicodeDecodeError (a 500 on POST /v1/pgx/call)."""
    data = (b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t\xae2\n"
            b"chr10\t94721900\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\n")
    from theralab.precision.pgx.vcf import read_vcf

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.vcf"
        path.write_bytes(data)
        try:
            read_vcf(path, _definitions())
        except InputError as exc:
            assert "UTF-8" in exc.message
        else:
            raise AssertionError("expected InputError")


def test_genotypes_that_segfault_cyvcf2_are_refused_before_it_reads_them():
    """benchmarks/fuzz.py (atheris) found that cyvcf2 0.35 dies with SIGSEGV (the whole server process)
    on a genotype htslib cannot parse ('x', '0/', '0/x', a control byte). Run in a child process so
    a regression shows as a crash code instead of killing the test run."""
    import subprocess
    import sys

    script = (  # the three readers that hand uploads to cyvcf2: PGx, polygenic risk, oncology
        "import sys\nfrom theralab.errors import InputError\nfrom theralab.precision.pgx.report import call_vcf\n"
        "from theralab.precision.risk import read_vcf\nfrom theralab.precision.oncology.variants import "
        "read_annotated_vcf\nfor reader in (call_vcf, read_vcf, read_annotated_vcf):\n    try:\n"
        "        reader(sys.argv[1])\n    except InputError as exc:\n        print('INPUT-ERROR', exc.message)\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for k, gt in enumerate(["x", "0/", "0/x", "A", "0/\x08"]):
            path = Path(tmp) / f"bad{k}.vcf"
            path.write_text("\n".join(HEADER + [COLUMNS, f"chr10\t94761900\t.\tC\tT\t.\tPASS\t.\tGT\t{gt}"]) + "\n")
            proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                                  timeout=120)
            assert proc.returncode == 0, (gt, proc.returncode)
            assert proc.stdout.count("INPUT-ERROR") == 3, (gt, proc.stdout)
