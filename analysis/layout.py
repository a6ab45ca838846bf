"""First-stage design structure: strata, PSUs (ultimate clusters), finite population corrections.

Built once from the data with :func:`build_layout`, exactly as R's ``svydesign`` interprets its arguments:

- ``psu`` absent: every row is its own PSU (R ``ids = ~1``); ``strata`` absent: one stratum.
- ``nest=True``: PSU ids are unique only within strata (R ``nest = TRUE``); with ``nest=False`` a PSU id found in
  two strata is an error, as in R.
- ``fpc``: either the population number of PSUs per stratum (all values > 1) or the sampling fraction (all
  values <= 1), constant within a stratum (R ``as.fpc``); ``1 − f_h = (N_h − n_h)/N_h``.
- Single-PSU strata follow ``lonely_psu`` (R ``options(survey.lonely.psu=)``): ``"fail"`` (default) raises
  :class:`~analysis.errors.LonelyPSUError` naming the stratum when the design is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from .errors import DesignError, LonelyPSUError
from .grouping import require_columns

__all__ = ["LONELY_PSU_OPTIONS", "LonelyPSU", "StratumLayout", "build_layout"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

LonelyPSU = Literal["fail", "remove", "adjust", "average", "certainty"]
LONELY_PSU_OPTIONS: tuple[str, ...] = get_args(LonelyPSU)

_CENSUS = 1e-7  # R onestrat: a stratum with (N_h - n_h)/N_h below this contributes 0


@dataclass(frozen=True)
class StratumLayout:
    """First-stage (ultimate cluster) structure of a design.

    Attributes
    ----------
    psu : ndarray of int64
        PSU code of each row, ``0 .. n_psu - 1`` (unique across strata).
    psu_stratum : ndarray of int64
        Stratum code of each PSU.
    stratum : ndarray of int64
        Stratum code of each row.
    psu_count : ndarray of int64
        Number of sampled PSUs per stratum, ``n_h``.
    fpc_factor : ndarray of float64
        ``1 − f_h`` per stratum as R computes it, ``(N_h − n_h)/N_h``; 1 without an fpc.
    stratum_labels : tuple of str
        Stratum label of each stratum code (for messages).
    lonely_psu : str
        Policy for strata with a single PSU (R ``options(survey.lonely.psu=)``).
    """

    psu: IntArray
    psu_stratum: IntArray
    stratum: IntArray
    psu_count: IntArray
    fpc_factor: FloatArray
    stratum_labels: tuple[str, ...]
    lonely_psu: LonelyPSU

    def __post_init__(self) -> None:
        if self.lonely_psu not in LONELY_PSU_OPTIONS:
            raise DesignError(f"lonely_psu must be one of {', '.join(LONELY_PSU_OPTIONS)}; got {self.lonely_psu!r}")
        if self.lonely_psu == "fail" and self.lonely.any():
            h = int(np.flatnonzero(self.lonely)[0])
            raise LonelyPSUError(
                f"stratum {self.stratum_labels[h]!r} has only one PSU; choose lonely_psu "
                "'remove', 'adjust', 'average' or 'certainty' (R: options(survey.lonely.psu=...))"
            )

    @property
    def n_strata(self) -> int:
        """Number of strata."""
        return len(self.psu_count)

    @property
    def n_psu(self) -> int:
        """Number of PSUs."""
        return len(self.psu_stratum)

    @property
    def df(self) -> int:
        """Design degrees of freedom, #PSU − #strata (R ``degf``)."""
        return self.n_psu - self.n_strata

    @property
    def census(self) -> BoolArray:
        """Strata sampled exhaustively (``1 − f_h < 1e-7``): they contribute no variance."""
        out: BoolArray = self.fpc_factor < _CENSUS
        return out

    @property
    def lonely(self) -> BoolArray:
        """Strata with a single PSU that are not exhaustively sampled."""
        out: BoolArray = (self.psu_count == 1) & ~self.census
        return out

    def stratum_scale(self) -> FloatArray:
        """``(1 − f_h) n_h/(n_h − 1)`` for strata with two or more PSUs, 0 for census and lonely strata."""
        n_h = self.psu_count.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(n_h > 1, self.fpc_factor * n_h / (n_h - 1.0), 0.0)
        scale[self.census] = 0.0
        out: FloatArray = scale.astype(np.float64)
        return out

    def stratum_indicator(self) -> sp.csr_matrix:
        """Sparse ``stratum × PSU`` indicator matrix."""
        g = self.n_psu
        return sp.csr_matrix((np.ones(g), (self.psu_stratum, np.arange(g))), shape=(self.n_strata, g), dtype=np.float64)


def _codes(data: pd.DataFrame, column: str, what: str) -> tuple[IntArray, pd.Index]:
    require_columns(data, [column], what)
    codes, uniques = pd.factorize(data[column], sort=True, use_na_sentinel=True)
    arr = np.asarray(codes, dtype=np.int64)
    if (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise DesignError(f"{what} {column!r} has missing values (first at row {i})")
    return arr, pd.Index(uniques)


def build_layout(
    data: pd.DataFrame,
    *,
    strata: str | None = None,
    psu: str | None = None,
    fpc: str | None = None,
    nest: bool = False,
    lonely_psu: LonelyPSU = "fail",
) -> StratumLayout:
    """Strata, PSU codes and finite population corrections of a one-stage (ultimate cluster) design.

    Parameters
    ----------
    data : DataFrame
        The respondents.
    strata, psu, fpc : str, optional
        Column names (R ``svydesign(strata=, ids=, fpc=)``).
    nest : bool
        PSU ids are unique only within strata.
    lonely_psu : {"fail", "remove", "adjust", "average", "certainty"}
        Single-PSU strata policy.

    Raises
    ------
    DesignError
        Missing columns or values, PSUs not nested in strata, an fpc that is mixed, varies within a stratum or
        implies more than 100% sampling.
    LonelyPSUError
        A single-PSU stratum with ``lonely_psu="fail"``.
    """
    n = len(data)
    if n == 0:
        raise DesignError("the data have no rows")
    if strata is None:
        stratum = np.zeros(n, dtype=np.int64)
        labels: tuple[str, ...] = ("1",)
    else:
        stratum, s_uniques = _codes(data, strata, "strata column")
        labels = tuple(str(u) for u in s_uniques)
    n_strata = len(labels)
    if psu is None:
        psu_codes = np.arange(n, dtype=np.int64)
    else:
        raw, p_uniques = _codes(data, psu, "PSU column")
        if nest:
            psu_codes, _ = pd.factorize(stratum * len(p_uniques) + raw, sort=True)
            psu_codes = np.asarray(psu_codes, dtype=np.int64)
        else:
            pairs = np.unique(raw * n_strata + stratum)
            per_psu = np.bincount(pairs // n_strata, minlength=len(p_uniques))
            if (per_psu > 1).any():
                bad = p_uniques[int(np.flatnonzero(per_psu > 1)[0])]
                raise DesignError(
                    f"PSU {bad!r} of column {psu!r} occurs in more than one stratum; PSU ids are not nested in "
                    "strata: pass nest=True if they are unique only within strata"
                )
            psu_codes = raw
    n_psu = int(psu_codes.max()) + 1
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[psu_codes] = stratum
    psu_count = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)
    fpc_factor = np.ones(n_strata)
    if fpc is not None:
        require_columns(data, [fpc], "fpc column")
        values = pd.to_numeric(data[fpc], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(values).any():
            raise DesignError(f"fpc column {fpc!r} must be numeric without missing values")
        is_popsize = bool(np.any(values > 1))
        if is_popsize != bool(np.all(values >= 1)):  # R as.fpc: all > 1 (sizes) or all <= 1 (fractions)
            raise DesignError(
                f"fpc column {fpc!r} must hold either population sizes (all > 1) or sampling fractions (all <= 1)"
            )
        lo = np.full(n_strata, np.inf)
        hi = np.full(n_strata, -np.inf)
        np.minimum.at(lo, stratum, values)
        np.maximum.at(hi, stratum, values)
        if np.any(hi > lo):
            h = int(np.flatnonzero(hi > lo)[0])
            raise DesignError(f"fpc column {fpc!r} varies within stratum {labels[h]!r}")
        if np.any(lo < 0):
            raise DesignError(f"fpc column {fpc!r} must not be negative")
        with np.errstate(divide="ignore"):
            popsize = lo if is_popsize else psu_count / lo
        if np.any(popsize < psu_count):
            h = int(np.flatnonzero(popsize < psu_count)[0])
            raise DesignError(
                f"fpc implies more than 100% sampling in stratum {labels[h]!r} "
                f"({int(psu_count[h])} PSUs sampled of {popsize[h]:g})"
            )
        with np.errstate(invalid="ignore"):
            fpc_factor = np.where(np.isinf(popsize), 1.0, (popsize - psu_count) / popsize)
    return StratumLayout(
        psu=psu_codes,
        psu_stratum=psu_stratum,
        stratum=stratum,
        psu_count=psu_count,
        fpc_factor=fpc_factor.astype(np.float64),
        stratum_labels=labels,
        lonely_psu=lonely_psu,
    )
