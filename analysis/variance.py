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
pairs and the (stratum, domain) cells that occur, so no dense PSU × domain or stratum × domain matrix is formed.
With calibration, ``W`` (PSUs × levels) and the level × level cross sums are sparse; the PSU totals ``A − W M`` are
formed a block of domain columns at a time (exact centring) up to ``_BLOCKED_CELLS`` PSU × domain cells, and beyond
that the stratum sums of squares are expanded in closed form with a sparse level × level Gram matrix. Memory stays
O(rows + occurring pairs + levels × domains); no stratum × level × level array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from .layout import StratumLayout

__all__ = ["CalibrationAdjustment", "domain_degrees_of_freedom", "linearization_variance"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Largest number of PSU × domain cells for which dense PSU totals are formed (beyond: sums over occurring pairs).
_DENSE_CELLS = 1 << 22
# With calibration, up to this many PSU × domain cells are formed block by block (exact centring, time O(cells));
# beyond, the stratum sums of squares are expanded in closed form over the occurring pairs.
_BLOCKED_CELLS = 1 << 29


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


def _sparse_bincount2(a: IntArray, na: int, b: IntArray, nb: int, values: FloatArray) -> sp.csr_matrix:
    """Sparse ``na × nb`` matrix of the sums of ``values`` over the ``(a, b)`` pairs (memory O(len(a) + nnz))."""
    if na * nb <= _DENSE_CELLS:
        return sp.csr_matrix(_bincount2(a, na, b, nb, values))
    codes, uniq = pd.factorize(a * nb + b)
    key = np.asarray(uniq, dtype=np.int64)
    sums = np.bincount(codes, weights=values, minlength=len(key))
    return sp.csr_matrix((sums, (key // nb, key % nb)), shape=(na, nb), dtype=np.float64)


def _cross_sums(a: IntArray, na: int, b: IntArray, nb: int, values: FloatArray) -> FloatArray | sp.csr_matrix:
    """``_sparse_bincount2``, as a dense array when at least 1/32 of it is nonzero and it is small (BLAS products)."""
    out = _sparse_bincount2(a, na, b, nb, values)
    if na * nb <= _DENSE_CELLS and 32 * out.nnz >= na * nb:
        dense: FloatArray = out.toarray()
        return dense
    return out


def _safe_ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(den != 0, num / np.where(den != 0, den, 1.0), 0.0)
    return out


def _divide_rows(num: FloatArray, den: FloatArray) -> FloatArray:
    """``num[c, :] / den[c]`` in place, 0 where ``den[c] == 0`` (``_safe_ratio`` without broadcast temporaries)."""
    ok = den != 0
    np.divide(num, den[:, None], out=num, where=ok[:, None])
    num[~ok] = 0.0
    return num


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
    # Precompute per basis: U_s (level sums of u), R_s (level × domain sums of u/p x), K_st cross terms (sparse:
    # level s × level t sums over the rows, nonzero only for level pairs that occur together in a row).
    ratio = [_safe_ratio(b.u, b.p) for b in bases]
    level_u = [np.asarray(np.bincount(b.codes, weights=b.u, minlength=b.n_levels), dtype=np.float64) for b in bases]
    xv = x[valid]
    dv = dom[valid]
    r_s = [_bincount2(b.codes[valid], b.n_levels, dv, n_dom, ratio[i][valid] * xv) for i, b in enumerate(bases)]
    # K_ss is diagonal (a row has one level of each basis); K_st (s != t) is kept dense (BLAS) when mostly nonzero.
    k_diag = [np.asarray(np.bincount(b.codes, weights=ratio[s] * b.p, minlength=b.n_levels)) for s, b in enumerate(bases)]
    k_st: list[list[FloatArray | sp.csr_matrix | None]] = [
        [
            None if s == t else _cross_sums(bs.codes, bs.n_levels, bt.codes, bt.n_levels, ratio[s] * bt.p)
            for t, bt in enumerate(bases)
        ]
        for s, bs in enumerate(bases)
    ]
    for s in sequence:
        bs = bases[s]
        own = m[bs.offset : bs.offset + bs.n_levels]
        # acc = R_s − Σ_t K_st M_t, formed in place (this block can be levels × domains: few passes over it)
        acc = own * k_diag[s][:, None]
        for t, bt in enumerate(bases):
            k = k_st[s][t]
            if k is not None:
                acc += k @ m[bt.offset : bt.offset + bt.n_levels]
        np.subtract(r_s[s], acc, out=acc)
        own += _divide_rows(acc, level_u[s])
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


def _lonely_raw_factor(layout: StratumLayout) -> FloatArray:
    """Per stratum, the factor of the uncentred squared stratum total in the variance (lonely ``adjust``)."""
    if _needs_raw(layout):
        out: FloatArray = layout.fpc_factor * layout.lonely
        return out
    return np.zeros(layout.n_strata)


def _strata_from_dense(layout: StratumLayout, totals: FloatArray) -> tuple[FloatArray, FloatArray | None]:
    ind = layout.stratum_indicator()
    n_h = layout.psu_count.astype(np.float64)[:, None]
    mean = np.asarray(ind @ totals) / n_h
    dev = totals - mean[layout.psu_stratum]
    ss = np.asarray(ind @ (dev * dev))
    ss_raw = np.asarray(ind @ (totals * totals)) if _needs_raw(layout) else None
    return ss, ss_raw


@dataclass(frozen=True)
class _Pairs:
    """PSU × domain totals over the (PSU, domain) pairs that occur, and their stratum × domain cells that occur."""

    psu: IntArray  # per pair
    dom: IntArray  # per pair
    total: FloatArray  # per pair: Σ x over the PSU's rows in the domain
    cell_h: IntArray  # per cell: stratum
    cell_d: IntArray  # per cell: domain
    cell_sum: FloatArray  # per cell: Σ of the PSU totals
    cell_ss: FloatArray  # per cell: centred sum of squares over all n_h PSUs (absent pairs have total 0)


def _pair_sums(layout: StratumLayout, x: FloatArray, dom: IntArray, valid: BoolArray, n_dom: int) -> _Pairs:
    """PSU × domain totals of ``x`` over the pairs that occur (memory O(rows), no PSU × domain or strata × domain
    matrix). Stratum × domain cells without a pair have sum and sum of squares 0 and are left out."""
    key = layout.psu[valid] * n_dom + dom[valid]
    pair, uniq = pd.factorize(key)
    uniq_arr = np.asarray(uniq, dtype=np.int64)
    totals = np.asarray(np.bincount(pair, weights=x[valid], minlength=len(uniq_arr)), dtype=np.float64)
    pair_psu = uniq_arr // n_dom
    pair_dom = uniq_arr % n_dom
    cell, cell_uniq = pd.factorize(layout.psu_stratum[pair_psu] * n_dom + pair_dom)
    cell_key = np.asarray(cell_uniq, dtype=np.int64)
    n_cells = len(cell_key)
    cell_h = cell_key // n_dom
    n_h = layout.psu_count.astype(np.float64)[cell_h]
    sums = np.asarray(np.bincount(cell, weights=totals, minlength=n_cells), dtype=np.float64)
    mean = sums / n_h
    dev = totals - mean[cell]
    n_pairs = np.bincount(cell, minlength=n_cells)
    ss: FloatArray = np.bincount(cell, weights=dev * dev, minlength=n_cells) + (n_h - n_pairs) * mean * mean
    return _Pairs(pair_psu, pair_dom, totals, cell_h, cell_key % n_dom, sums, ss)


def _pairs_variance(layout: StratumLayout, pairs: _Pairs, n_dom: int) -> FloatArray:
    """``_combine`` over the stratum × domain cells that occur (the others contribute 0)."""
    coef = layout.stratum_scale()
    h, d = pairs.cell_h, pairs.cell_d
    var: FloatArray = np.asarray(np.bincount(d, weights=coef[h] * pairs.cell_ss, minlength=n_dom), dtype=np.float64)
    lonely = layout.lonely
    if lonely.any():
        if _needs_raw(layout):
            raw = _lonely_raw_factor(layout)[h] * pairs.cell_sum * pairs.cell_sum
            var = var + np.bincount(d, weights=raw, minlength=n_dom)
        elif layout.lonely_psu == "average":
            # R subsets an uncalibrated design, so only strata with members of the domain count.
            n_strat = np.bincount(d, minlength=n_dom).astype(np.float64)
            n_ok = np.asarray(np.bincount(d, weights=(~lonely[h]).astype(np.float64), minlength=n_dom), dtype=np.float64)
            var = var * _safe_ratio(n_strat, n_ok)
    return var


def _calibrated_pairs_variance(
    layout: StratumLayout,
    x: FloatArray,
    dom: IntArray,
    valid: BoolArray,
    n_dom: int,
    psu_b: sp.csr_matrix,
    m: FloatArray,
) -> FloatArray:
    """Variance from the PSU totals ``T = A − W M`` (``W`` = PSU sums of ``B``) without forming them densely.

    Per stratum ``h`` and domain ``d``, with ``c_h`` the stratum scale, ``e_h = c_h/n_h − r_h`` (``r_h`` the
    lonely-``adjust`` factor of the uncentred total) and ``S = Σ_{p∈h} A_p``, ``W_h = Σ_{p∈h} W_p``:

    ``V_d = Σ_h [c_h Σ_p (A_p − Ā_h)² + r_h S²] − 2 M_d'X_d + M_d' G M_d`` with the sparse
    ``X = W' diag(c) A − W_h' diag(e) S`` (levels × domains) and ``G = W' diag(c) W − W_h' diag(e) W_h``
    (levels × levels, nonzero only for levels that occur in a common stratum). Memory: O(rows + pairs + nnz(G))
    plus a block of columns of ``G M``; no stratum × level × level or PSU × domain array.
    """
    pairs = _pair_sums(layout, x, dom, valid, n_dom)
    g = layout.n_psu
    n_strata = layout.n_strata
    coef = layout.stratum_scale()
    raw = _lonely_raw_factor(layout)
    e = coef / layout.psu_count.astype(np.float64) - raw
    h, d = pairs.cell_h, pairs.cell_d
    base = coef[h] * pairs.cell_ss + raw[h] * pairs.cell_sum * pairs.cell_sum
    var: FloatArray = np.asarray(np.bincount(d, weights=base, minlength=n_dom), dtype=np.float64)
    coef_psu = sp.diags(coef[layout.psu_stratum])
    diag_e = sp.diags(e)
    a_mat = sp.csr_matrix(
        (coef[layout.psu_stratum[pairs.psu]] * pairs.total, (pairs.psu, pairs.dom)), shape=(g, n_dom)
    )
    s_mat = sp.csr_matrix((pairs.cell_sum, (h, d)), shape=(n_strata, n_dom))
    w_h = (layout.stratum_indicator() @ psu_b).tocsr()
    cross = (psu_b.T @ a_mat - w_h.T @ (diag_e @ s_mat)).tocsr()
    var -= 2.0 * np.asarray(cross.multiply(m).sum(axis=0), dtype=np.float64).ravel()
    gram = (psu_b.T @ (coef_psu @ psu_b) - w_h.T @ (diag_e @ w_h)).tocsr()
    step = max(1, _DENSE_CELLS // max(1, m.shape[0]))
    for j in range(0, n_dom, step):
        block = m[:, j : j + step]
        var[j : j + step] += np.einsum("cd,cd->d", block, np.asarray(gram @ block))
    if layout.lonely_psu == "average" and layout.lonely.any():
        # A calibrated design is not subset: every stratum counts for every domain.
        var = var * _safe_ratio(np.array(float(n_strata)), np.array(float(n_strata - int(layout.lonely.sum()))))
    return var


def _calibrated_blocked_variance(
    layout: StratumLayout,
    x: FloatArray,
    dom: IntArray,
    valid: BoolArray,
    n_dom: int,
    psu_b: sp.csr_matrix,
    m: FloatArray,
) -> FloatArray:
    """The dense computation on blocks of domain columns: ``T = A − W M`` formed for at most ``_DENSE_CELLS``
    PSU × domain cells at a time and centred within strata exactly (the columns are independent)."""
    g = layout.n_psu
    a_mat = _sparse_bincount2(layout.psu[valid], g, dom[valid], n_dom, x[valid]).tocsc()
    step = max(1, _DENSE_CELLS // g)
    var = np.empty(n_dom)
    for j in range(0, n_dom, step):
        k = min(n_dom, j + step)
        totals = a_mat[:, j:k].toarray() - np.asarray(psu_b @ m[:, j:k])
        ss, ss_raw = _strata_from_dense(layout, totals)
        var[j:k] = _combine(layout, ss, ss_raw, None)
    return var


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
        if g * n_dom > _DENSE_CELLS:
            return _pairs_variance(layout, _pair_sums(layout, x, dom, valid, n_dom), n_dom)
        if layout.lonely_psu == "average" and layout.lonely.any():
            # R subsets an uncalibrated design, so only strata with members of the domain count.
            cnt = _bincount2(layout.stratum[valid], layout.n_strata, dom[valid], n_dom, np.ones(int(valid.sum())))
            present = cnt > 0
        totals = _bincount2(layout.psu[valid], g, dom[valid], n_dom, x[valid])
        ss, ss_raw = _strata_from_dense(layout, totals)
        return _combine(layout, ss, ss_raw, present)
    bases, m = _calibration_coefficients(adjustments, x, dom, valid, n_dom)
    psu_b = sp.hstack(
        [_sparse_bincount2(layout.psu, g, b.codes, b.n_levels, b.p) for b in bases], format="csr", dtype=np.float64
    )
    if g * n_dom <= _DENSE_CELLS:
        totals = _bincount2(layout.psu[valid], g, dom[valid], n_dom, x[valid]) - np.asarray(psu_b @ m)
        ss, ss_raw = _strata_from_dense(layout, totals)
        return _combine(layout, ss, ss_raw, None)
    if g <= _DENSE_CELLS and g * n_dom <= _BLOCKED_CELLS:
        return _calibrated_blocked_variance(layout, x, dom, valid, n_dom, psu_b, m)
    return _calibrated_pairs_variance(layout, x, dom, valid, n_dom, psu_b, m)


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
