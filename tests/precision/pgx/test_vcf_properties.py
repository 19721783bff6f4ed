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
