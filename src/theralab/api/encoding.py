"""Make domain results JSON-safe for API responses.

JSON has no NaN or infinity and no numpy types; science results have both. Every router passes its
results through :func:`json_safe` instead of keeping its own converter.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def json_safe(obj: Any) -> Any:
    """numpy scalars and arrays to Python types, non-finite floats to None, recursively."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
