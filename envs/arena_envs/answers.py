"""Turning whatever an agent returned into an integer grid, or a clear reason why it cannot be one.

Verifiers call :func:`coerce_grid` first so that malformed answers (None, ragged lists, strings,
floats with NaN or fractions, wrong shape, values out of range) end as ``Verdict(ok=False)`` with a
readable reason instead of an exception from deep inside numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def coerce_grid(answer: Any, shape: tuple[int, ...], low: int, high: int) -> tuple[np.ndarray | None, str]:
    """Return ``(grid as int64, "")`` or ``(None, reason)``.

    Values must lie in ``[low, high]``; booleans, non-finite and non-integral floats are rejected.
    """
    if answer is None:
        return None, "no answer (None)"
    if isinstance(answer, (str, bytes)):
        return None, f"expected a grid of integers, got {type(answer).__name__}"
    arr = as_array(answer)
    if arr is None:
        return None, "not a rectangular grid (numpy cannot read it as an array)"
    if arr.dtype == object:
        return None, "not a rectangular grid of numbers"
    if arr.dtype.kind == "b":
        return None, "boolean grid; expected integers"
    if arr.dtype.kind not in "iuf":
        return None, f"expected integers, got dtype {arr.dtype}"
    if arr.shape != tuple(shape):
        return None, f"wrong shape {arr.shape}, expected {tuple(shape)}"
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            return None, f"non-finite value at {_cell(bad)}"
        if not np.all(arr == np.round(arr)):
            bad = np.argwhere(arr != np.round(arr))[0]
            return None, f"non-integer value {arr[tuple(bad)]} at {_cell(bad)}"
    out_of_range = (arr < low) | (arr > high)
    if np.any(out_of_range):
        bad = np.argwhere(out_of_range)[0]
        return None, f"value {arr[tuple(bad)]:g} at {_cell(bad)} is outside {low}..{high}"
    return arr.astype(np.int64, copy=False), ""


def as_array(answer: Any) -> np.ndarray | None:
    """``np.asarray(answer)`` (a plain ndarray, so a masked array gives its data), or None when numpy cannot
    read it: ragged nested lists, or an object whose ``__array__`` raises (whatever it raises)."""
    try:
        return np.asarray(answer)
    except Exception:  # a hostile answer must end as a verdict, never as an exception in the verifier
        return None


def _cell(index: np.ndarray) -> str:
    """1-based 'r3c5' notation for humans (violations tuples stay 0-based)."""
    if len(index) == 2:
        return f"r{int(index[0]) + 1}c{int(index[1]) + 1}"
    return "(" + ",".join(str(int(i)) for i in index) + ")"


def cell_name(row: int, col: int) -> str:
    return f"r{row + 1}c{col + 1}"
