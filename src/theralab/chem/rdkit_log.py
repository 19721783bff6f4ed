"""RDKit's own messages, kept with the row they belong to instead of printed to the console.

Why: RDKit writes its messages ("SMILES Parse Error: unclosed ring for input: 'C1CC'", "WARNING: not
removing hydrogen atom without neighbors") straight to the process's stderr, where in a run over a
million rows they scroll past with no row attached, while blocking them loses the most precise
reason (or caveat) there is. Inside :func:`rdkit_messages` RDKit's error log is captured (RDKit's
own ``CaptureErrorLog``) and its warnings are collected, for this thread only, so the caller can put
the errors into the row's ``reason`` and the warnings into the row's ``warnings``; neither is printed.

Warnings are collected through Python's logging: the first block routes RDKit's logs to the
``rdkit`` logger (``rdBase.LogToPythonLogger``, once per process) and adds a filter that hands a
record to the innermost open block of the thread that logged it. Outside a block nothing changes:
the ``rdkit`` logger's own handler prints the message as RDKit did.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rdkit import rdBase

_STAMP = re.compile(r"^\s*\[\d\d:\d\d:\d\d\]\s*")
_NOISE = re.compile(r"^(~*\^|Failed parsing SMILES|syntax error$)")
_ECHO = re.compile(r"\s+(for input: '.*'|while parsing: .*)$")
_LOCAL = threading.local()
_ROUTE_LOCK = threading.Lock()
_routed = False


class _ToOpenBlock(logging.Filter):
    """Hands RDKit's log records to the logging thread's open :func:`rdkit_messages` block, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        sink = getattr(_LOCAL, "sink", None)
        if sink is None:
            return True
        sink.append(record.getMessage())
        return False  # kept with the row, not printed


def _route_to_python() -> None:
    global _routed
    with _ROUTE_LOCK:
        if not _routed:
            rdBase.LogToPythonLogger()
            logging.getLogger("rdkit").addFilter(_ToOpenBlock())
            _routed = True


def _clean(lines: list[str]) -> list[str]:
    """Distinct messages without time stamps, caret drawings or the echo of the input, in order."""
    out: list[str] = []
    for line in lines:
        text = _STAMP.sub("", line).strip()
        text = _ECHO.sub("", text.removeprefix("SMILES Parse Error: ")).rstrip(":")
        if text and not _NOISE.match(text) and text not in out:
            out.append(text)
    return out


class RdkitMessages:
    """The messages RDKit logged inside one :func:`rdkit_messages` block."""

    def __init__(self, capture: rdBase.CaptureErrorLog, sink: list[str]) -> None:
        self._capture = capture
        self._sink = sink

    @property
    def messages(self) -> list[str]:
        """The errors: distinct, without time stamps, caret drawings or the echo of the input."""
        try:
            raw = str(self._capture.messages)
        except UnicodeDecodeError:  # RDKit clips a long echoed input inside a multi-byte character
            return ["(RDKit's message is not valid UTF-8 text)"]
        return _clean(raw.splitlines())

    @property
    def warnings(self) -> list[str]:
        """The warnings RDKit logged in this block and thread, distinct and in order."""
        return _clean([line for message in self._sink for line in message.splitlines()])

    def detail(self, skip: str = "") -> str:
        """The errors as one clause (``""`` when none), leaving out lines that only repeat ``skip``."""
        lines = [m for m in self.messages if not (skip and m.strip() == skip.strip())]
        return "; ".join(lines)


@contextmanager
def rdkit_messages() -> Iterator[RdkitMessages]:
    """Capture RDKit's errors and collect its warnings while the block runs (this thread only).

    Blocks nest: an inner block shadows the outer one, whose caller merges what it needs.

    Yields:
        An :class:`RdkitMessages` whose ``messages`` hold the errors and ``warnings`` the warnings.
    """
    _route_to_python()
    sink: list[str] = []
    outer = getattr(_LOCAL, "sink", None)
    _LOCAL.sink = sink
    _warnings_on()
    try:
        with rdBase.CaptureErrorLog() as capture:
            yield RdkitMessages(capture, sink)
    finally:
        _warnings_restore()
        _LOCAL.sink = outer


_OPEN = {"blocks": 0, "forced": False}  # open blocks in all threads; whether they switched warnings on


def _warnings_on() -> None:
    """Switch RDKit's warnings on while any block is open, whoever switched them off.

    Why: RDKit's log switches are process-wide, and any library (or an old ``DisableLog`` call)
    can turn warnings off for good; a block must still collect them. What a block switched on is
    switched off again when the last open block closes.
    """
    with _ROUTE_LOCK:
        if _OPEN["blocks"] == 0 and "rdApp.warning:disabled" in rdBase.LogStatus():
            rdBase.EnableLog("rdApp.warning")
            _OPEN["forced"] = True
        _OPEN["blocks"] += 1


def _warnings_restore() -> None:
    with _ROUTE_LOCK:
        _OPEN["blocks"] -= 1
        if _OPEN["blocks"] == 0 and _OPEN["forced"]:
            rdBase.DisableLog("rdApp.warning")
            _OPEN["forced"] = False


def join_warnings(*parts: str | list[str]) -> str:
    """Warnings from several steps as one ``"; "``-separated cell, each message once, in order."""
    seen: list[str] = []
    for part in parts:
        items = part.split("; ") if isinstance(part, str) else part
        for item in items:
            if item and item not in seen:
                seen.append(item)
    return "; ".join(seen)
