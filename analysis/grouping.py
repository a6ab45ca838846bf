"""Factorising grouping keys into integer codes, once, for vectorised group sums.

Domain estimation never loops over domains: every row gets one integer domain code (``-1`` when a key is
missing) and all per-domain quantities are group sums computed with :func:`numpy.bincount` over those codes, or
over combined ``PSU × domain`` codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .errors import DesignError

__all__ = ["Grouping", "group_codes", "require_columns"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Largest number of cells for which a dense bincount (instead of a hash factorisation) is used.
DENSE_LIMIT = 1 << 24


@dataclass(frozen=True)
class Grouping:
    """Integer codes of a grouping of the rows.

    Attributes
    ----------
    codes : ndarray of int64
        Group of each row, ``0 .. n_groups - 1``; ``-1`` where a key column is missing (the row belongs to no
        group).
    keys : DataFrame
        One row per group, in sorted key order, with the key columns (empty column list: one group, no columns).
    """

    codes: IntArray
    keys: pd.DataFrame

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.keys)


def require_columns(data: pd.DataFrame, columns: Sequence[str], what: str = "column") -> None:
    """Raise :class:`~analysis.errors.DesignError` naming the first of ``columns`` missing from ``data``."""
    for col in columns:
        if col not in data.columns:
            raise DesignError(f"{what} {col!r} not found in the data (columns: {', '.join(map(str, data.columns))})")


def _compact(combined: IntArray, valid: NDArray[np.bool_], size: int) -> tuple[IntArray, IntArray]:
    """Renumber the used values of ``combined`` (0 <= value < size) as 0..k-1 keeping their order."""
    used_values: IntArray
    if not valid.any():  # every key missing: no group (and no level to index)
        return np.full(combined.shape, -1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if size <= DENSE_LIMIT:
        present = np.bincount(combined[valid], minlength=size) > 0
        mapping = np.cumsum(present, dtype=np.int64) - 1
        used_values = np.flatnonzero(present).astype(np.int64)
        out = np.where(valid, mapping[np.where(valid, combined, 0)], -1)
    else:
        used_values, inverse = np.unique(combined[valid], return_inverse=True)
        out = np.full(combined.shape, -1, dtype=np.int64)
        out[valid] = inverse
    return out.astype(np.int64), used_values.astype(np.int64)


def group_codes(data: pd.DataFrame, by: Sequence[str] | None) -> Grouping:
    """Factorise the key columns ``by`` into one integer code per row.

    Parameters
    ----------
    data : DataFrame
        The rows.
    by : sequence of str or None
        Key columns; ``None`` or empty gives a single group containing every row.

    Returns
    -------
    Grouping
        Codes and the sorted table of keys. Rows with a missing key get code ``-1`` (as R's ``svyby`` drops rows
        whose ``by`` variables are ``NA``).
    """
    n = len(data)
    cols = list(by or [])
    if not cols:
        return Grouping(np.zeros(n, dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1)))
    require_columns(data, cols, "grouping column")
    per_col_codes: list[IntArray] = []
    per_col_uniques: list[pd.Index] = []
    for col in cols:
        codes, uniques = pd.factorize(data[col], sort=True, use_na_sentinel=True)
        per_col_codes.append(np.asarray(codes, dtype=np.int64))
        per_col_uniques.append(pd.Index(uniques))
    valid = np.ones(n, dtype=bool)
    for c in per_col_codes:
        valid &= c >= 0
    # Mixed-radix combination (compacted whenever the radix product grows large) keeps the lexicographic order.
    combined = np.where(valid, per_col_codes[0], 0).astype(np.int64)
    size = len(per_col_uniques[0])
    for c, u in zip(per_col_codes[1:], per_col_uniques[1:], strict=True):
        k = max(len(u), 1)
        if size * k > DENSE_LIMIT:
            combined, used = _compact(combined, valid, size)
            combined = np.where(valid, combined, 0)
            size = len(used)
        combined = combined * k + np.where(valid, c, 0)
        size *= k
    codes_out, used = _compact(combined, valid, size)
    # Key values of each group, read from the first row of the group.
    first_rows = np.flatnonzero(valid & ~pd.Index(codes_out).duplicated(keep="first"))
    first_rows = first_rows[np.argsort(codes_out[first_rows], kind="stable")]
    keys = pd.DataFrame(
        {col: per_col_uniques[j].take(per_col_codes[j][first_rows]) for j, col in enumerate(cols)},
        index=pd.RangeIndex(len(first_rows)),
    )
    return Grouping(codes_out, keys)
