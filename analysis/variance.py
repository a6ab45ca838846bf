"""Taylor-linearisation (ultimate cluster) variance for many domains at once, exactly as R's ``svyrecvar``.

The estimators hand over one linearised value per row, ``x_i = w_i z_i`` (zero outside the domain), and a domain
code per row. Everything below is a group sum over ``PSU × domain`` or ``stratum × domain`` codes: there is no
loop over domains.

Variance (R survey 4.1.1 ``onestage``/``onestrat``; Wolter 2007, ch. 6):

.. math:: \\hat V_d = \\sum_h (1-f_h)\\,\\frac{n_h}{n_h-1} \\sum_{j} (z_{hjd} - \\bar z_{hd})^2,

with ``n_h`` counting every sampled PSU of the stratum (PSUs without a member of the domain have total 0).

Calibration (R ``svyrecvar``) is applied to the ``x`` before the PSU totals, in the order the calibrations were
made:

- post-stratification on cells ``g``: ``x_i ← x_i − w_i · Σ_{k∈g} d_k x_k/w_k / Σ_{k∈g} d_k`` (``d`` the weights
  before, ``w`` after post-stratification);
- raking: 10 fixed sweeps; in each, for each margin ``m``, ``x_i ← x_i − w_{m,i} · mean_{k∈ℓ_m(i)}(x_k/w_{m,k})``,
  an unweighted mean over the level, ``w_m`` the weights after margin ``m``'s step in the last raking sweep.

Because every row belongs to one domain, the calibrated ``x`` for all domains has the form
``x_raw − B M``: ``B`` (rows × calibration levels) holds the adjustment weights and ``M`` (levels × domains) is
accumulated with small matrix products; PSU totals are ``A − (PSU sums of B) M``.

When #PSU × #domains is large (e.g. an unclustered design, every row a PSU), the sums run over the (PSU, domain)
pairs that occur, and with calibration the stratum sums of squares of ``A − W M`` are expanded in closed form, so
no dense PSU × domain matrix is formed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .layout import StratumLayout

__all__ = ["CalibrationAdjustment", "domain_degrees_of_freedom", "linearization_variance"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Largest number of PSU × domain cells for which dense PSU totals are formed (beyond: sums over occurring pairs).
_DENSE_CELLS = 1 << 22


@dataclass(frozen=True)
class CalibrationAdjustment:
    """What R's ``svyrecvar`` needs to account for one post-stratification or raking.

    Attributes
    ----------
    kind : {"poststratify", "rake"}
        Which centring R applies.
    codes : tuple of ndarray of int64
        Cell code of each row (one array for post-stratification, one per margin for raking).
    n_levels : tuple of int
        Number of cells of each array in ``codes``.
    weights : tuple of ndarray of float64
        Weights after the step, per array in ``codes`` (R's ``attr(, "weights")``).
    old_weights : ndarray of float64 or None
        Weights before post-stratification (R's ``attr(, "oldweights")``); ``None`` for raking.
    """

    kind: Literal["poststratify", "rake"]
    codes: tuple[IntArray, ...]
    n_levels: tuple[int, ...]
    weights: tuple[FloatArray, ...]
    old_weights: FloatArray | None = None

    @property
    def sweeps(self) -> int:
        """Number of centring sweeps: 10 for raking (fixed in R's ``svyrecvar``), 1 for post-stratification."""
        return 10 if self.kind == "rake" else 1


@dataclass(frozen=True)
class _Basis:
    """One calibration step seen as a block of columns of ``B``."""

    codes: IntArray
    n_levels: int
    p: FloatArray  # adjustment weights (psw)
    u: FloatArray  # weights of the cell mean: old weights (post-strat) or 1 (raking)
    offset: int


def _bincount2(a: IntArray, na: int, b: IntArray, nb: int, values: FloatArray) -> FloatArray:
    out: FloatArray = np.asarray(np.bincount(a * nb + b, weights=values, minlength=na * nb), dtype=np.float64)
    out = out.reshape(na, nb)
    return out


def _safe_ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(den != 0, num / np.where(den != 0, den, 1.0), 0.0)
    return out


def _calibration_coefficients(
    adjustments: Sequence[CalibrationAdjustment], x: FloatArray, dom: IntArray, valid: BoolArray, n_dom: int
) -> tuple[list[_Basis], FloatArray]:
    """Return the calibration bases and ``M`` (levels × domains) with calibrated x = x_raw − B M."""
    bases: list[_Basis] = []
    sequence: list[int] = []
    offset = 0
    for adj in adjustments:
        first = len(bases)
        for codes, nl, p in zip(adj.codes, adj.n_levels, adj.weights, strict=True):
            if adj.kind == "poststratify":
                old = adj.old_weights if adj.old_weights is not None else np.ones_like(p)
                p = np.where((p == 0) & (old == 0), 1.0, p)  # as R: psw[psw == 0 & oldw == 0] <- 1
                u = old
            else:
                u = np.ones_like(p)
            bases.append(_Basis(codes, nl, p, u, offset))
            offset += nl
        sequence.extend(list(range(first, len(bases))) * adj.sweeps)
    n_cols = offset
    m = np.zeros((n_cols, n_dom))
    # Precompute per basis: U_s (level sums of u), R_s (level × domain sums of u/p x), K_st cross terms.
    ratio = [_safe_ratio(b.u, b.p) for b in bases]
    level_u = [np.bincount(b.codes, weights=b.u, minlength=b.n_levels) for b in bases]
    xv = x[valid]
    dv = dom[valid]
    r_s = [_bincount2(b.codes[valid], b.n_levels, dv, n_dom, ratio[i][valid] * xv) for i, b in enumerate(bases)]
    k_st = [
        [_bincount2(bs.codes, bs.n_levels, bt.codes, bt.n_levels, ratio[s] * bt.p) for bt in bases]
        for s, bs in enumerate(bases)
    ]
    for s in sequence:
        bs = bases[s]
        acc = r_s[s].copy()
        for t, bt in enumerate(bases):
            acc -= k_st[s][t] @ m[bt.offset : bt.offset + bt.n_levels]
        m[bs.offset : bs.offset + bs.n_levels] += _safe_ratio(acc, np.broadcast_to(level_u[s][:, None], acc.shape))
    return bases, m


def _combine(layout: StratumLayout, ss: FloatArray, ss_raw: FloatArray | None, present: BoolArray | None) -> FloatArray:
    """Sum stratum contributions (``ss`` centred, ``ss_raw`` uncentred, both strata × domains) as R does."""
    coef = layout.stratum_scale()
    var: FloatArray = coef @ ss
    lonely = layout.lonely
    if lonely.any():
        if layout.lonely_psu == "adjust" and ss_raw is not None:
            # R survey 4.1.1 leaves a lonely PSU's total uncentred (centred at 0, the grand mean of the PSU totals
            # of a mean's or ratio's influence function) and keeps its (1 - f_h) factor.
            var = var + (layout.fpc_factor * lonely) @ ss_raw
        elif layout.lonely_psu == "average":
            pres = present if present is not None else np.ones(ss.shape, dtype=bool)
            n_strat = pres.sum(axis=0).astype(np.float64)
            n_ok = (pres & ~lonely[:, None]).sum(axis=0).astype(np.float64)
            var = var * _safe_ratio(n_strat, n_ok)
    return var


def _needs_raw(layout: StratumLayout) -> bool:
    return layout.lonely_psu == "adjust" and bool(layout.lonely.any())


def _strata_from_dense(layout: StratumLayout, totals: FloatArray) -> tuple[FloatArray, FloatArray | None]:
    ind = layout.stratum_indicator()
    n_h = layout.psu_count.astype(np.float64)[:, None]
    mean = np.asarray(ind @ totals) / n_h
    dev = totals - mean[layout.psu_stratum]
    ss = np.asarray(ind @ (dev * dev))
    ss_raw = np.asarray(ind @ (totals * totals)) if _needs_raw(layout) else None
    return ss, ss_raw


def _pair_sums(
    layout: StratumLayout, x: FloatArray, dom: IntArray, valid: BoolArray, n_dom: int
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray]:
    """PSU × domain totals of ``x`` over the (PSU, domain) pairs that occur (memory O(rows), no dense matrix).

    Returns the pairs' PSU, their stratum × domain cell, their totals, and per stratum × domain cell the sum of
    the PSU totals and the centred sum of squares over all ``n_h`` PSUs (absent pairs have total 0).
    """
    key = layout.psu[valid] * n_dom + dom[valid]
    pair, uniq = pd.factorize(key)
    uniq_arr = np.asarray(uniq, dtype=np.int64)
    totals = np.asarray(np.bincount(pair, weights=x[valid], minlength=len(uniq_arr)), dtype=np.float64)
    pair_psu = uniq_arr // n_dom
    hd = layout.psu_stratum[pair_psu] * n_dom + uniq_arr % n_dom
    h_cells = layout.n_strata * n_dom
    n_h = np.repeat(layout.psu_count.astype(np.float64), n_dom)
    sums = np.asarray(np.bincount(hd, weights=totals, minlength=h_cells), dtype=np.float64)
    mean = sums / n_h
    dev = totals - mean[hd]
    n_pairs = np.bincount(hd, minlength=h_cells)
    ss: FloatArray = np.bincount(hd, weights=dev * dev, minlength=h_cells) + (n_h - n_pairs) * mean * mean
    shape = (layout.n_strata, n_dom)
    return pair_psu, hd, totals, sums.reshape(shape), ss.reshape(shape)


def _calibrated_pairs(
    layout: StratumLayout,
    x: FloatArray,
    dom: IntArray,
    valid: BoolArray,
    n_dom: int,
    psu_b: FloatArray,
    m: FloatArray,
) -> tuple[FloatArray, FloatArray | None]:
    """Stratum sums of squares of ``T = A − (PSU sums of B) M`` without forming the dense PSU × domain ``T``.

    With ``A`` centred within strata over the pairs and ``W = PSU sums of B`` centred within strata,
    ``Σ_p (T − T̄)² = Σ (A − Ā)² − 2 Σ_c M_c Σ_p A (W_c − W̄_c) + M' [Σ_p (W − W̄)(W − W̄)'] M``; used when the
    number of PSUs × domains is large (e.g. an unclustered calibrated design).
    """
    pair_psu, hd, a, sums, ss_a = _pair_sums(layout, x, dom, valid, n_dom)
    h_cells = layout.n_strata * n_dom
    ind = layout.stratum_indicator()
    w_h = np.asarray(ind @ psu_b)
    w_c = psu_b - (w_h / layout.psu_count[:, None])[layout.psu_stratum]
    cross = np.zeros((layout.n_strata, n_dom))
    gram = np.empty((layout.n_strata, psu_b.shape[1], psu_b.shape[1]))
    for c in range(psu_b.shape[1]):  # a loop over calibration levels, not domains
        part = np.bincount(hd, weights=a * w_c[pair_psu, c], minlength=h_cells).reshape(cross.shape)
        cross += part * m[c][None, :]
        gram[:, c, :] = np.asarray(ind @ (w_c[:, c : c + 1] * w_c))
    quad = np.einsum("hce,cd,ed->hd", gram, m, m)
    ss: FloatArray = ss_a - 2.0 * cross + quad
    s = sums - w_h @ m
    return ss, (s * s if _needs_raw(layout) else None)


def linearization_variance(
    layout: StratumLayout,
    x: FloatArray,
    dom: IntArray,
    n_dom: int,
    adjustments: Sequence[CalibrationAdjustment] = (),
) -> FloatArray:
    """Linearisation variance of ``n_dom`` domain estimators from their weighted influence values.

    Parameters
    ----------
    layout : StratumLayout
        First-stage design structure.
    x : ndarray of float64
        Weighted influence value ``w_i z_i`` of each row for the estimator of its own domain.
    dom : ndarray of int64
        Domain code of each row (``-1``: in no domain, e.g. a missing outcome).
    n_dom : int
        Number of domains.
    adjustments : sequence of CalibrationAdjustment
        Post-stratifications and rakings in the order they were made (R ``design$postStrata``).

    Returns
    -------
    ndarray of float64
        Variance of each domain estimator (R ``svyrecvar`` with ``survey.ultimate.cluster`` semantics for the
        first stage; later stages are not used, as in R's default one-stage variance with a first-stage fpc).
    """
    valid = dom >= 0
    g = layout.n_psu
    present: BoolArray | None = None
    if not adjustments:
        if layout.lonely_psu == "average" and layout.lonely.any():
            # R subsets an uncalibrated design, so only strata with members of the domain count.
            cnt = _bincount2(layout.stratum[valid], layout.n_strata, dom[valid], n_dom, np.ones(int(valid.sum())))
            present = cnt > 0
        if g * n_dom <= _DENSE_CELLS:
            totals = _bincount2(layout.psu[valid], g, dom[valid], n_dom, x[valid])
            ss, ss_raw = _strata_from_dense(layout, totals)
        else:
            _, _, _, sums, ss = _pair_sums(layout, x, dom, valid, n_dom)
            ss_raw = sums * sums if _needs_raw(layout) else None  # only single-PSU strata use it
        return _combine(layout, ss, ss_raw, present)
    bases, m = _calibration_coefficients(adjustments, x, dom, valid, n_dom)
    psu_b = np.hstack([_bincount2(layout.psu, g, b.codes, b.n_levels, b.p) for b in bases])
    if g * n_dom <= _DENSE_CELLS:
        totals = _bincount2(layout.psu[valid], g, dom[valid], n_dom, x[valid]) - psu_b @ m
        ss, ss_raw = _strata_from_dense(layout, totals)
    else:
        ss, ss_raw = _calibrated_pairs(layout, x, dom, valid, n_dom, psu_b, m)
    return _combine(layout, ss, ss_raw, None)


def domain_degrees_of_freedom(layout: StratumLayout, dom: IntArray, n_dom: int) -> FloatArray:
    """Per-domain degrees of freedom: PSUs with a member of the domain minus strata with a member.

    This is R's ``degf()`` of the domain's subset design (as used by ``svyby(..., svyciprop)``).
    """
    valid = dom >= 0
    key = layout.psu[valid] * n_dom + dom[valid]
    uniq = np.unique(key)
    psu_dom = uniq % n_dom
    n_psu = np.bincount(psu_dom, minlength=n_dom)
    h_key = np.unique(layout.psu_stratum[uniq // n_dom] * n_dom + psu_dom)
    n_strata = np.bincount(h_key % n_dom, minlength=n_dom)
    out: FloatArray = (n_psu - n_strata).astype(np.float64)
    return out
