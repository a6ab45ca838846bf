"""Population targets for calibration (raking margins, post-stratification cells) and their checks.

Levels are compared as text: a data value and a target level match when their text forms are equal (integral
floats such as ``2.0`` are written ``2``, so a column read with missing values still matches the level ``2``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .errors import CalibrationError

__all__ = ["Margin", "MarginsLike", "level_text", "margins_from_frame", "parse_margins", "poststrata_margin"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MarginsLike = pd.DataFrame | Mapping[Any, Mapping[Any, float]]


def level_text(value: object) -> str:
    """Text form of a level: integral floats lose their ``.0``; everything else is ``str(value)``."""
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    return str(value)


def _column_text(data: pd.DataFrame, variables: tuple[str, ...]) -> tuple[IntArray, list[str]]:
    """Factorise the (joint) text key of ``variables``: codes per row (-1 if missing) and the text of each code."""
    key_codes = np.zeros(len(data), dtype=np.int64)
    texts: list[str] = [""]
    missing = np.zeros(len(data), dtype=bool)
    for j, var in enumerate(variables):
        if var not in data.columns:
            raise CalibrationError(f"calibration variable {var!r} not found in the data")
        codes, uniques = pd.factorize(data[var], use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        missing |= codes < 0
        u_text = [level_text(u) for u in uniques]
        key_codes = key_codes * max(len(u_text), 1) + np.where(codes >= 0, codes, 0)
        texts = [t + (" × " if j else "") + u for t in texts for u in u_text] if u_text else texts
    if missing.any():
        raise CalibrationError(
            f"calibration variable {' × '.join(variables)!r} has missing values in {int(missing.sum())} rows"
        )
    return key_codes, texts


@dataclass(frozen=True)
class Margin:
    """Population totals of one margin (a variable, or a cross-classification of variables).

    Attributes
    ----------
    variables : tuple of str
        Column(s) defining the margin's levels.
    levels : tuple of str
        Level texts (joint levels are joined with " × ").
    totals : ndarray of float64
        Population total of each level.
    """

    variables: tuple[str, ...]
    levels: tuple[str, ...]
    totals: FloatArray

    @property
    def name(self) -> str:
        """The margin's name for messages."""
        return " × ".join(self.variables)

    @property
    def total(self) -> float:
        """Grand total of the margin."""
        return float(self.totals.sum())

    def codes(self, data: pd.DataFrame, weights: FloatArray | None = None) -> IntArray:
        """Level index of each row, checking the sample against the targets.

        Raises
        ------
        CalibrationError
            Missing values, a sample level without a target, a positive target level without respondents
            (or with zero total weight), or respondents in a level whose target is 0.
        """
        key_codes, texts = _column_text(data, self.variables)
        position = {lvl: i for i, lvl in enumerate(self.levels)}
        mapping = np.full(len(texts), -1, dtype=np.int64)
        for i, t in enumerate(texts):
            mapping[i] = position.get(t, -1)
        used = np.unique(key_codes)
        unknown = [texts[c] for c in used if mapping[c] < 0]
        if unknown:
            raise CalibrationError(f"level {unknown[0]!r} of margin {self.name!r} occurs in the data but has no target")
        codes = mapping[key_codes]
        counts = np.bincount(codes, minlength=len(self.levels))
        wsum = np.bincount(codes, weights=weights, minlength=len(self.levels)) if weights is not None else counts
        for i, lvl in enumerate(self.levels):
            if self.totals[i] > 0 and (counts[i] == 0 or wsum[i] <= 0):
                raise CalibrationError(
                    f"empty margin level: no respondents in level {lvl!r} of margin {self.name!r} "
                    f"(target {self.totals[i]:g})"
                )
            if self.totals[i] == 0 and counts[i] > 0:
                raise CalibrationError(
                    f"level {lvl!r} of margin {self.name!r} has target 0 but {int(counts[i])} respondents"
                )
        return codes


def _make_margin(variables: tuple[str, ...], items: Sequence[tuple[Any, Any]]) -> Margin:
    levels: list[str] = []
    totals: list[float] = []
    name = " × ".join(variables)
    for lvl, tot in items:
        text = " × ".join(level_text(v) for v in lvl) if isinstance(lvl, tuple) else level_text(lvl)
        try:
            value = float(tot)
        except (TypeError, ValueError):
            raise CalibrationError(f"target of level {text!r} of margin {name!r} is not a number: {tot!r}") from None
        if not np.isfinite(value) or value < 0:
            raise CalibrationError(f"target of level {text!r} of margin {name!r} must be finite and >= 0: {tot!r}")
        if text in levels:
            raise CalibrationError(f"level {text!r} of margin {name!r} is given twice")
        levels.append(text)
        totals.append(value)
    if not levels:
        raise CalibrationError(f"margin {name!r} has no levels")
    return Margin(variables, tuple(levels), np.asarray(totals, dtype=np.float64))


def margins_from_frame(frame: pd.DataFrame) -> tuple[Margin, ...]:
    """Margins from a table with columns ``variable, level, total`` (one row per level)."""
    missing = [c for c in ("variable", "level", "total") if c not in frame.columns]
    if missing:
        raise CalibrationError(f"margins table needs columns variable, level, total; missing {', '.join(missing)}")
    out: list[Margin] = []
    for var, part in frame.groupby("variable", sort=False):
        out.append(_make_margin((str(var),), list(zip(part["level"].tolist(), part["total"].tolist(), strict=True))))
    if not out:
        raise CalibrationError("margins table is empty")
    return tuple(out)


def parse_margins(margins: MarginsLike | Sequence[Margin]) -> tuple[Margin, ...]:
    """Normalise raking margins.

    Parameters
    ----------
    margins : DataFrame, mapping or sequence of Margin
        A table ``variable, level, total``; or ``{variable: {level: total}}`` where ``variable`` may be a tuple
        of columns for a cross-classified margin (then levels are tuples); or ready :class:`Margin` objects.
    """
    if isinstance(margins, pd.DataFrame):
        return margins_from_frame(margins)
    if isinstance(margins, Mapping):
        out = []
        for var, levels in margins.items():
            variables = tuple(str(v) for v in var) if isinstance(var, tuple) else (str(var),)
            out.append(_make_margin(variables, list(levels.items())))
        if not out:
            raise CalibrationError("no margins given")
        return tuple(out)
    result = tuple(margins)
    if not result or not all(isinstance(m, Margin) for m in result):
        raise CalibrationError("margins must be a DataFrame, a mapping or a sequence of Margin")
    return result


def poststrata_margin(cells: str | Sequence[str], totals: pd.DataFrame | Mapping[Any, float]) -> Margin:
    """Post-stratification cells as one (possibly cross-classified) margin.

    Parameters
    ----------
    cells : str or sequence of str
        Column(s) whose combinations are the post-strata.
    totals : DataFrame or mapping
        A table with the cell columns and a ``total`` column, or ``{level: total}`` (tuple levels for several
        columns).
    """
    variables = (cells,) if isinstance(cells, str) else tuple(cells)
    if isinstance(totals, pd.DataFrame):
        need = [*variables, "total"]
        absent = [c for c in need if c not in totals.columns]
        if absent:
            raise CalibrationError(f"post-stratification totals need columns {', '.join(need)}; missing {absent}")
        keys = list(zip(*(totals[v].tolist() for v in variables), strict=True))
        items = [(k if len(variables) > 1 else k[0], t) for k, t in zip(keys, totals["total"].tolist(), strict=True)]
        return _make_margin(variables, items)
    return _make_margin(variables, list(totals.items()))
