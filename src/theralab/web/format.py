"""How numbers, quantities, intervals and times read on a page: the one place for significant figures and units.

Every page formats through these functions (registered as Jinja filters in
:mod:`theralab.web.templating`), so a value never reaches the user as a float repr
(``105.57141600000001``), a Python list or dict, or a naive timestamp without its zone.

* ``sig(x, 3)``: significant figures, but the integer digits are never rounded away
  (``12345.6`` → ``12,346``; ``0.0012345`` → ``0.00123``), thousands separators, no trailing zeros
  beyond what the figures carry.
* ``qty(x, unit, sig=3)``: ``sig`` plus the unit (``"106 mg/dL"``; ``sig=4`` gives ``"105.6 mg/dL"``).
* ``pct(x, 1)``: a **fraction** (0..1) as a percentage (``0.1234`` → ``"12.3%"``).
* ``when(dt)``: a ``<time>`` element in UTC that ``theralab.js`` turns into the reader's local time,
  keeping UTC in its ``title``.
* ``interval(x, lo, hi, unit)``: ``"1.2 (95% CI 0.9–1.6) mg/L"``.
* ``show(value)``: anything else a template prints (lists, dicts, booleans, None) as readable text.

Missing values (``None``, NaN, empty string) read as an em dash, never as ``None`` or ``nan``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

#: What a missing value reads as.
MISSING = "—"


def _number(x: Any) -> float | None:
    """``x`` as a finite float, or None when it is missing or not a number."""
    if x is None or isinstance(x, bool):
        return None
    if isinstance(x, str):
        x = x.strip()
        if not x:
            return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def decimals_for(value: float, sig: int = 3) -> int:
    """How many decimals show ``sig`` significant figures of ``value`` (0 when the integer part has enough)."""
    if value == 0:
        return 0
    magnitude = math.floor(math.log10(abs(value)))
    return max(0, sig - 1 - magnitude)


def sig(x: Any, sig: int = 3) -> str:
    """``x`` to ``sig`` significant figures with thousands separators; text passes through; missing → "—".

    Trailing zeros after the decimal point are dropped (``2.50`` → ``2.5``) because a page shows a
    measurement, not the precision of the float that carried it. Very large or very small values
    (|x| ≥ 1e9 or < 1e-4) use scientific notation (``1.23e-06``).
    """
    value = _number(x)
    if value is None:
        if isinstance(x, str) and x.strip():
            return x
        return MISSING
    sig = max(1, int(sig))
    if value != 0 and (abs(value) >= 1e9 or abs(value) < 1e-4):
        return f"{value:.{sig - 1}e}"
    rounded = float(f"{value:.{sig}g}") if value != 0 else 0.0
    if abs(rounded) >= 10 ** sig:  # integer digits are never rounded away
        rounded = round(value)
    places = decimals_for(rounded, sig)
    text = f"{rounded:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "-0.0"):
        text = "0"
    return text


def qty(x: Any, unit: str | None = None, sig: int = 3) -> str:
    """A quantity with its unit: ``qty(105.571416, "mg/dL", 4)`` → ``"105.6 mg/dL"``; missing → "—" (no unit)."""
    text = globals()["sig"](x, sig)
    if text == MISSING or not unit:
        return text
    if unit in ("%", "‰"):
        return f"{text}{unit}"
    return f"{text} {unit}"


def pct(x: Any, decimals: int = 1) -> str:
    """A fraction (0..1) as a percentage with ``decimals`` decimals: ``0.1234`` → ``"12.3%"``."""
    value = _number(x)
    if value is None:
        return MISSING
    return f"{value * 100:,.{int(decimals)}f}%"


def _as_datetime(dt: Any) -> datetime | None:
    if dt is None or dt == "":
        return None
    if isinstance(dt, datetime):
        value = dt
    elif isinstance(dt, date):
        value = datetime(dt.year, dt.month, dt.day)
    elif isinstance(dt, (int, float)):
        value = datetime.fromtimestamp(float(dt), tz=UTC)
    else:
        text = str(dt).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if value.tzinfo is None:  # the platform stores UTC everywhere; a naive time is UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def when(dt: Any, missing: str = MISSING) -> Markup:
    """``<time datetime="…Z" title="… UTC">…</time>``; ``theralab.js`` shows it in the reader's local time.

    Text that is not a time is shown as it is (escaped); missing → "—".
    """
    value = _as_datetime(dt)
    if value is None:
        return Markup(escape(missing if dt in (None, "") else str(dt)))
    iso = value.strftime("%Y-%m-%dT%H:%M:%SZ")
    utc = value.strftime("%Y-%m-%d %H:%M UTC")
    return Markup(f'<time datetime="{iso}" title="{utc}">{utc}</time>')


def interval(x: Any, lo: Any, hi: Any, unit: str | None = None, sig: int = 3, level: int = 95) -> str:
    """An estimate with its confidence interval: ``"1.2 (95% CI 0.9–1.6) mg/L"``.

    A bound that is missing reads "—"; a missing estimate reads "—" alone.
    """
    centre = globals()["sig"](x, sig)
    if centre == MISSING:
        return MISSING
    low, high = globals()["sig"](lo, sig), globals()["sig"](hi, sig)
    text = f"{centre} ({level}% CI {low}–{high})"
    return f"{text} {unit}" if unit else text


def show(value: Any, sig: int = 4) -> str:
    """Any value as readable text: numbers to ``sig`` figures, lists joined, dicts as "key: value", None → "—"."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return globals()["sig"](value, sig)
    if isinstance(value, (datetime, date)):
        return str(when(value))
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {show(v, sig)}" for k, v in value.items()) or MISSING
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(show(v, sig) for v in value) or MISSING
    text = str(value)
    return text if text.strip() else MISSING


def level_of_news2(score: Any) -> str:
    """The badge level of a NEWS2 aggregate score: 0 → ok, 1-4 → low, 5-6 → medium, ≥7 → high.

    (A single parameter scoring 3 also makes the clinical risk "low-medium"; that needs the
    parameters, so callers holding them pass the band they computed instead.)
    """
    value = _number(score)
    if value is None:
        return "muted"
    if value <= 0:
        return "ok"
    if value <= 4:
        return "low"
    if value <= 6:
        return "medium"
    return "high"


__all__ = ["MISSING", "decimals_for", "interval", "level_of_news2", "pct", "qty", "show", "sig", "when"]
