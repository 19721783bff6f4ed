"""Checks a VCF must pass before its genotypes are trusted: file integrity and genome build.

Why: htslib reads a truncated bgzip up to the break and, with a stale index, returns nothing for the
regions beyond it, so a damaged file turns into genes "not called" with exit 0. A header that names
no build is common (variant-only exports), and calling GRCh37 coordinates against GRCh38 definitions
silently finds nothing. Both must be loud: the integrity check refuses the file whatever the index
says, and the build is read from the variants themselves when the header is silent.
"""

from __future__ import annotations

import gzip
import re
import struct
import zlib
from pathlib import Path

from theralab.errors import InputError
from theralab.precision.pgx.definitions import GeneDefinition

#: the 28-byte empty block every complete BGZF file ends with (SAM/BAM spec, section 4.1.2)
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
#: files up to this size are decompressed whole to find corrupt blocks; larger ones are walked
FULL_CHECK_BYTES = 64 * 1024 * 1024


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def check_compressed(path: str | Path) -> None:
    """Refuse a truncated or corrupt (b)gzip VCF, whatever an index beside it says.

    A BGZF file must end with the EOF block; each block's header and compressed length are walked
    (and small files fully decompressed with CRC checks), so a cut or damaged block is found.

    Raises:
        InputError: the file is cut short or a block does not decompress.
    """
    path = Path(path)
    if not _is_gzip(path):
        return
    size = path.stat().st_size
    where = str(path)
    hint = "the file is damaged: copy or download it again (and re-index it: tabix -p vcf FILE)"
    with path.open("rb") as fh:
        head = fh.read(18)
        bgzf = len(head) >= 18 and head[3] & 4 and head[12:14] == b"BC"
        if bgzf:
            fh.seek(max(0, size - 28))
            if fh.read(28) != BGZF_EOF:
                raise InputError(
                    "the bgzip file is truncated (no BGZF end-of-file block)", where=where, hint=hint
                )
            _walk_blocks(fh, size, where, hint, inflate=size <= FULL_CHECK_BYTES)
            return
    if size <= FULL_CHECK_BYTES:
        try:
            with gzip.open(path, "rb") as g:
                while g.read(1 << 20):
                    pass
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"the gzip file is truncated or corrupt: {exc}", where=where, hint=hint) from exc


def _walk_blocks(fh, size: int, where: str, hint: str, inflate: bool) -> None:  # noqa: ANN001 - binary file
    """Walk BGZF block headers (and inflate each block when ``inflate``) to find a damaged one."""
    fh.seek(0)
    off = 0
    n = 0
    while off < size:
        fh.seek(off)
        head = fh.read(18)
        if len(head) < 18 or head[:2] != b"\x1f\x8b" or head[12:14] != b"BC":
            raise InputError(f"corrupt bgzip block {n} at byte {off}", where=where, hint=hint)
        bsize = struct.unpack("<H", head[16:18])[0] + 1
        if off + bsize > size:
            raise InputError(f"bgzip block {n} at byte {off} runs past the end of the file", where=where, hint=hint)
        if inflate:
            fh.seek(off)
            block = fh.read(bsize)
            try:
                data = zlib.decompress(block[18:-8], -15)
            except zlib.error as exc:
                raise InputError(f"corrupt bgzip block {n} at byte {off}: {exc}", where=where, hint=hint) from exc
            crc, isize = struct.unpack("<II", block[-8:])
            if zlib.crc32(data) != crc or len(data) != isize:
                raise InputError(f"bgzip block {n} at byte {off} fails its CRC check", where=where, hint=hint)
        off += bsize
        n += 1


def build_from_variants(
    path: str | Path, grch38: dict[str, GeneDefinition], grch37: dict[str, GeneDefinition], max_records: int = 2_000_000
) -> tuple[str | None, int, int]:
    """Guess the build from the records: how many sit on a defined PGx position with the right REF.

    Returns:
        (build or None, hits on GRCh38, hits on GRCh37); None when neither build has a hit or they tie.
    """
    import cyvcf2

    def table(defs: dict[str, GeneDefinition]) -> dict[tuple[str, int], set[str]]:
        out: dict[tuple[str, int], set[str]] = {}
        for d in defs.values():
            for p in d.positions:
                out.setdefault((p.chrom.removeprefix("chr"), p.pos), set()).add(p.ref[:1])
        return out

    t38, t37 = table(grch38), table(grch37)
    h38 = h37 = 0
    try:
        vcf = cyvcf2.VCF(str(path))
        for k, v in enumerate(vcf):
            if k >= max_records:
                break
            key = (v.CHROM.removeprefix("chr"), v.POS)
            first = v.REF[:1]
            h38 += first in t38.get(key, ())
            h37 += first in t37.get(key, ())
        vcf.close()
    except Exception as exc:  # cyvcf2 raises bare Exceptions on damaged records
        raise InputError(f"cannot read the VCF records: {exc}", where=str(path)) from exc
    if h38 == h37:
        return None, h38, h37
    return ("GRCh38" if h38 > h37 else "GRCh37"), h38, h37


class CapturedStderr:
    """Collect what C libraries (htslib under cyvcf2) print on file descriptor 2 while reading.

    Why: htslib writes raw lines such as ``[W::vcf_parse] Contig 'chr19' is not defined in the
    header`` straight to the terminal; the report is where a user reads about their file. The lines
    are kept (deduplicated, index-lookup chatter dropped) in :attr:`lines`.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __enter__(self) -> CapturedStderr:
        import os
        import sys
        import tempfile

        sys.stderr.flush()
        self._tmp = tempfile.TemporaryFile(mode="w+b")
        self._saved = os.dup(2)
        os.dup2(self._tmp.fileno(), 2)
        return self

    def __exit__(self, *exc: object) -> None:
        import os
        import sys

        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        text = self._tmp.read().decode("utf-8", "replace")
        self._tmp.close()
        for line in text.splitlines():
            line = line.strip()
            if not line or "idx_find_and_load" in line or line in self.lines:
                continue
            self.lines.append(line)


_GT = re.compile(rb"^(?:\.|\d{1,4})(?:[/|](?:\.|\d{1,4}))*$")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_records(path: str | Path) -> None:
    """Refuse records htslib would fail to parse *before* cyvcf2 reads them.

    Why: cyvcf2 (0.35) dies with a segmentation fault, taking the whole server process with it,
    when htslib cannot parse a genotype (``GT`` of ``x``, ``0/``, ``A``) or meets control bytes;
    found by ``benchmarks/fuzz.py``. An unindexed upload is read whole anyway, so this scan costs
    one more pass over a file already bounded in size.

    Raises:
        InputError: the line number and what is wrong with it.
    """
    path = Path(path)
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:  # type: ignore[operator]
            if fh.read(3) == b"BCF":  # binary BCF: no text records to check
                return
            fh.seek(0)
            for number, line in enumerate(fh, 1):
                if line.startswith(b"#"):
                    continue
                line = line.rstrip(b"\r\n")
                if not line:
                    continue
                where = f"{path.name}, line {number}"
                if _CONTROL.search(line):
                    raise InputError("control characters in a VCF record", where=where)
                cols = line.split(b"\t")
                if len(cols) < 8:
                    raise InputError(f"a VCF record needs at least 8 tab-separated columns, found {len(cols)}",
                                     where=where)
                if len(cols) < 10:
                    continue
                keys = cols[8].split(b":")
                if b"GT" not in keys:
                    continue
                at = keys.index(b"GT")
                for k, sample in enumerate(cols[9:], 1):
                    parts = sample.split(b":")
                    if len(parts) > at and not _GT.match(parts[at]):
                        bad = parts[at][:20].decode(errors="replace")
                        raise InputError(f"sample {k} has an unreadable genotype {bad!r}", where=where,
                                         hint="a genotype is allele numbers or '.', joined by '/' or '|'")
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read the VCF: {exc}", where=str(path)) from exc


def check_before_cyvcf2(path: str | Path) -> None:
    """:func:`check_records` for a file without an index (every upload); an indexed file is the
    local user's own and is read by region, so it is left to htslib."""
    path = Path(path)
    if path.is_file() and not any(Path(str(path) + ext).is_file() for ext in (".tbi", ".csi")):
        check_records(path)
