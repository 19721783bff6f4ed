"""RDKit's own error messages, kept with the row they belong to instead of printed to the console.

Why: RDKit writes its messages ("SMILES Parse Error: unclosed ring for input: 'C1CC'") straight to
the process's stderr, where in a run over a million rows they scroll past with no row attached,
while blocking them loses the most precise reason there is. Inside :func:`rdkit_errors` RDKit's
error log is captured (RDKit's own ``CaptureErrorLog``) and its warnings and info chatter are
blocked, so the caller can put the messages into the row's ``reason``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from rdkit import rdBase

_STAMP = re.compile(r"^\s*\[\d\d:\d\d:\d\d\]\s*")
_NOISE = re.compile(r"^(~*\^|Failed parsing SMILES|syntax error$)")
_ECHO = re.compile(r"\s+(for input: '.*'|while parsing: .*)$")


class RdkitErrors:
    """The messages RDKit logged as errors inside one :func:`rdkit_errors` block."""

    def __init__(self, capture: rdBase.CaptureErrorLog) -> None:
        self._capture = capture

    @property
    def messages(self) -> list[str]:
        """Distinct messages without time stamps, caret drawings or the echo of the input, in order."""
        out: list[str] = []
        try:
            raw = str(self._capture.messages)
        except UnicodeDecodeError:  # RDKit clips a long echoed input inside a multi-byte character
            return ["(RDKit's message is not valid UTF-8 text)"]
        for line in raw.splitlines():
            text = _STAMP.sub("", line).strip()
            text = _ECHO.sub("", text.removeprefix("SMILES Parse Error: ")).rstrip(":")
            if text and not _NOISE.match(text) and text not in out:
                out.append(text)
        return out

    def detail(self, skip: str = "") -> str:
        """The messages as one clause (``""`` when none), leaving out lines that only repeat ``skip``."""
        lines = [m for m in self.messages if not (skip and m.strip() == skip.strip())]
        return "; ".join(lines)


@contextmanager
def rdkit_errors() -> Iterator[RdkitErrors]:
    """Capture RDKit's error log and silence its warnings while the block runs (this thread).

    Yields:
        An :class:`RdkitErrors` whose ``messages`` hold what RDKit reported.
    """
    with rdBase.BlockLogs(), rdBase.CaptureErrorLog() as capture:
        yield RdkitErrors(capture)
