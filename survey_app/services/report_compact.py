"""Fast paths of the report bridge for large periods; both give exactly the figures of the generic path.

- :func:`load_codes_postgres`: on PostgreSQL the responses of a period are read with one ``COPY … TO STDOUT``;
  each row's JSON is parsed once (``json_to_record``) and its answers travel as one fixed-width string of digits
  (``0`` = no answer or "na"), decoded with numpy. Any other answer value makes it return ``None`` so the caller
  uses the generic loader (which coerces such values the same way as before).
- :func:`compressed_sipas`: for a design without calibration, a SIPAS index (a linear combination of Hájek
  ratios) depends on the rows only through the per PSU × domain sums of ``w·y`` and ``w·1(y observed)`` of every
  item. So the sector's rows are replaced by one row per PSU × domain × item × answer (0/1) carrying the summed
  weight, plus one unobserved anchor row per PSU and per domain (so the strata, PSUs and domains — and hence the
  variance, lonely-PSU treatment and degrees of freedom — are those of the full design). Estimates, SEs,
  intervals and CVs come from :func:`analysis.sipas_index` on that design; ``n`` and ``weight_sum`` are counted
  on the real rows; ``deff``/``n_eff`` (row-level, never shown) are left empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from analysis import SurveyDesign, satisfied, sipas_index
from analysis.ratios import RESULT_COLUMNS

VALID = ("1", "2", "3", "4", "5")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_codes_postgres(
    session: Session, *, bounds: tuple[Any, Any], modes: Sequence[str], include_flagged: bool,
    columns: Mapping[str, Mapping[str, str | None]],
) -> pd.DataFrame | None:
    """The report frame (``id, commune_id, sector, mode, point_id`` and the coded answer columns) or ``None``
    when the database is not PostgreSQL or some answer is neither 1–5, "na" nor missing."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    names = list(columns)
    sectors = sorted({s for m in columns.values() for s in m})
    keys = sorted({item for m in columns.values() for item in m.values() if item})
    if not names or not keys:
        return None
    width = len(names)
    record = ", ".join(f"{_quote(k)} text" for k in keys)

    def code(item: str | None) -> str:
        if not item:
            return "'0'"
        v = "x." + _quote(item)
        return f"CASE WHEN {v} IN ('1','2','3','4','5') THEN {v} WHEN {v} IS NULL OR {v} = 'na' THEN '0' ELSE '9' END"

    params: list[Any] = []
    whens = []
    for s in sectors:
        whens.append("WHEN %s THEN concat(" + ", ".join(code(columns[n].get(s)) for n in names) + ")")
        params.append(s)
    lo, hi = bounds
    # Identifiers are quoted item ids of the stored questionnaires; every value is a bound parameter.
    sql = (
        "COPY (SELECT r.id, r.commune_id, r.sector, r.mode, coalesce(r.reception_point_id, -1), "  # noqa: S608
        f"CASE r.sector {' '.join(whens)} ELSE repeat('0', {width}) END "
        "FROM response r CROSS JOIN LATERAL json_to_record(CASE WHEN json_typeof(r.answers) = 'object' "
        f"THEN r.answers ELSE '{{}}'::json END) AS x({record}) "
        "WHERE r.submitted_at >= %s AND r.submitted_at < %s AND r.mode = ANY(%s)"
        + ("" if include_flagged else " AND r.flagged = false")
        + ") TO STDOUT"
    )
    params += [lo, hi, list(modes)]
    # COPY streams while the rows are produced; one JSON parse per row (json_to_record).
    dbapi = session.connection().connection.driver_connection
    buf = io.BytesIO()
    with dbapi.cursor() as cur, cur.copy(sql, params) as copy:  # type: ignore[union-attr]
        for block in copy:
            buf.write(block)
    buf.seek(0)
    dtypes: dict[str, Any] = {"id": "int64", "commune_id": "int64", "sector": str, "mode": str, "point_id": "float64",
                              "codes": object}
    raw = pd.read_csv(buf, sep="\t", header=None, names=list(dtypes), dtype=dtypes, keep_default_na=False,
                      quoting=csv.QUOTE_NONE, engine="c")
    n = len(raw)
    codes = np.frombuffer("".join(raw["codes"]).encode("ascii"), dtype=np.uint8).reshape(n, width) - ord("0")
    if (codes > 5).any():
        return None
    out = raw[["id", "commune_id", "sector", "mode", "point_id"]].copy()
    out["point_id"] = out["point_id"].where(out["point_id"] >= 0)
    for j, name in enumerate(names):
        col = codes[:, j].astype(np.float64)
        col[col == 0] = np.nan
        out[name] = satisfied(pd.Series(col)) if name == "overall" else col
    return out


def compressed_sipas(
    design: SurveyDesign, elements: Mapping[str, Sequence[str]], *, sector: str, by: Sequence[str], level: float,
) -> pd.DataFrame:
    """``sipas_index(design, elements, by=["sector", *by], recode=True, items=True)`` restricted to ``sector``,
    computed on PSU × domain sufficient statistics (see the module docstring). Only for uncalibrated designs."""
    if design.steps:
        raise ValueError("compressed_sipas needs a design without calibration")
    data = design.data
    keys = ["stratum", "psu", *by]
    cols = list(dict.fromkeys(c for cs in elements.values() for c in cs))
    in_s = (data["sector"] == sector).to_numpy()
    if not in_s.any():  # no domain of this sector: the generic path's table filtered to the sector is empty
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ["sector", *by, "component", *RESULT_COLUMNS]})
    rows = data.loc[in_s, keys].reset_index(drop=True)
    w = design.weights[in_s]
    sat = {c: satisfied(data[c][in_s]) for c in cols}  # as sipas_index(recode=True) codes them
    combined = np.zeros(len(rows), dtype=np.int64)
    for k in keys:
        kc, ku = pd.factorize(rows[k])
        combined = combined * (len(ku) + 1) + kc
    group, _ = pd.factorize(combined)
    group = np.asarray(group, dtype=np.int64)
    first = np.unique(group, return_index=True)[1]
    n_groups = len(first)
    cells = rows.iloc[first].reset_index(drop=True)
    parts = []
    for c in cols:
        y = sat[c]
        obs = ~np.isnan(y)
        code = np.where(obs, group * 2 + np.nan_to_num(y).astype(np.int64), -1)
        sums = np.bincount(code[obs], weights=w[obs], minlength=2 * n_groups)
        hit = np.flatnonzero(np.bincount(code[obs], minlength=2 * n_groups) > 0)
        part = cells.iloc[hit // 2].reset_index(drop=True)
        part["w"] = sums[hit]
        part[c] = (hit % 2).astype(np.float64)
        parts.append(part)
    anchors = cells.assign(w=1.0)  # one unobserved row per domain cell: the domain exists as in the full design
    others = data.loc[~in_s, ["stratum", "psu", *by]].drop_duplicates(["stratum", "psu"]).assign(w=1.0)
    frame = pd.concat([*parts, anchors, others], ignore_index=True)
    # PSUs without a respondent of the sector belong to no domain (missing key) but stay in the layout.
    frame["sector"] = pd.Series(sector, index=frame.index).where(np.arange(len(frame)) < len(frame) - len(others))
    for c in cols:
        if c not in frame:
            frame[c] = np.nan
    frame[cols] = frame[cols].astype(np.float64)
    compact = SurveyDesign(frame, weights="w", strata="stratum", psu="psu", lonely_psu="adjust")
    by_all = ["sector", *by]
    table = sipas_index(compact, elements, by=by_all, recode=False, items=True, level=level, overall="SIPAS")
    table = table[table["sector"] == sector].reset_index(drop=True)
    # n and weight sum on the real rows: respondents who answered at least one item of the component.
    answered = pd.DataFrame({c: ~np.isnan(sat[c]) for c in cols})
    indicators: dict[tuple[str, str], Any] = {("item", c): answered[c].to_numpy() for c in cols}
    for name, cs in elements.items():
        indicators[("element", name)] = answered[list(cs)].any(axis=1).to_numpy()
    indicators[("index", "SIPAS")] = answered.any(axis=1).to_numpy()
    if by:
        dom = np.asarray(pd.MultiIndex.from_frame(rows[list(by)]).factorize()[0], dtype=np.int64)
        dkeys = rows[list(by)].iloc[np.unique(dom, return_index=True)[1]].reset_index(drop=True)
    else:
        dom = np.zeros(len(rows), dtype=np.int64)
        dkeys = pd.DataFrame(index=pd.RangeIndex(1))
    n_dom = len(dkeys)
    sums_by_domain = [
        dkeys.assign(component=component, variable=variable,
                     n=np.bincount(dom, weights=ind, minlength=n_dom).astype(np.int64),
                     weight_sum=np.bincount(dom, weights=np.where(ind, w, 0.0), minlength=n_dom))
        for (component, variable), ind in indicators.items()
    ]
    ns = pd.concat(sums_by_domain, ignore_index=True)
    merged = table.drop(columns=["n", "weight_sum"]).merge(ns, on=[*by, "component", "variable"], how="left")
    merged["n"] = merged["n"].fillna(0).astype(np.int64)
    merged["weight_sum"] = merged["weight_sum"].fillna(0.0)
    for col in ("deff", "deff_replace", "n_eff"):
        merged[col] = np.nan
    return merged[list(table.columns)]
