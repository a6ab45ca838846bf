"""Fast paths of the report bridge for large periods; both give exactly the figures of the generic path.

- :func:`load_codes_postgres`: on PostgreSQL the responses of a period are read with one ``COPY … TO STDOUT``;
  each row's JSON is parsed once (``json_to_record``) and its answers travel as one fixed-width string of digits
  (``0`` = no answer or "na"), decoded with numpy. Any other answer value makes it return ``None`` so the caller
  uses the generic loader (which coerces such values the same way as before).
- :class:`Cells` and the estimators below: for a design without calibration, a Hájek mean, an answer
  distribution or a SIPAS index (a linear combination of Hájek ratios) depends on the rows only through sums per
  PSU × domain of ``w·1(answer = L)``. The cells (commune × sector × mode × point × fieldwork stratum and PSU)
  carry those sums, read from the materialised SQL stats (services/report_stats.py) or summed here from rows.
  The estimators replace the rows by one row per cell × item × answer carrying the summed weight, plus one
  unobserved anchor row per cell (so the strata, PSUs and domains — and hence the variance, lonely-PSU
  treatment and degrees of freedom — are those of the full design), and call :mod:`analysis` on that design.
  ``n`` and ``weight_sum`` are the real respondents' counts and weights; ``deff``/``n_eff`` (row-level, never
  shown) are left empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
        "coalesce(r.stratum, ''), coalesce(r.psu, ''), coalesce(r.design_weight, -1), "
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
                              "stratum": str, "psu": str, "design_weight": "float64", "codes": object}
    raw = pd.read_csv(buf, sep="\t", header=None, names=list(dtypes), dtype=dtypes, keep_default_na=False,
                      quoting=csv.QUOTE_NONE, engine="c")
    n = len(raw)
    codes = np.frombuffer("".join(raw["codes"]).encode("ascii"), dtype=np.uint8).reshape(n, width) - ord("0")
    if (codes > 5).any():
        return None
    out = raw[["id", "commune_id", "sector", "mode", "point_id", "stratum", "psu", "design_weight"]].copy()
    out["point_id"] = out["point_id"].where(out["point_id"] >= 0)
    out["design_weight"] = out["design_weight"].where(out["design_weight"] > 0)  # -1 = none (weights are > 0)
    for name in ("stratum", "psu"):
        out[name] = out[name].where(out[name] != "").astype(object)
    for j, name in enumerate(names):
        col = codes[:, j].astype(np.float64)
        col[col == 0] = np.nan
        out[name] = satisfied(pd.Series(col)) if name == "overall" else col
    return out


KEYS = ("commune_id", "sector", "mode", "point_id", "stratum", "psu")
LEVELS = (1, 2, 3, 4, 5)
STAT_ALL = "*"
STAT_WEIGHTED = "dw"


@dataclass(frozen=True)
class Cells:
    """Sufficient statistics: one row of ``keys`` per cell (``point_id`` 0 = none; ``stratum``/``psu`` the
    fieldwork design's, "" = none), with per stat the respondents' count (``n``) and design-weight sum (``w``)."""

    keys: pd.DataFrame
    n: Mapping[str, np.ndarray]
    w: Mapping[str, np.ndarray]

    @property
    def total(self) -> int:
        return int(self.count(STAT_ALL).sum())

    def count(self, stat: str) -> np.ndarray:
        return self.n.get(stat, np.zeros(len(self.keys), dtype=np.int64))

    def weight(self, stat: str, *, weighted: bool) -> np.ndarray:
        if not weighted:
            return self.count(stat).astype(np.float64)
        return self.w.get(stat, np.zeros(len(self.keys), dtype=np.float64))

    @classmethod
    def from_long(cls, long: pd.DataFrame) -> Cells:
        """From (cell keys, stat, n, w) rows; cells without respondents (after a retraction) are dropped."""
        if long.empty:
            return cls(pd.DataFrame({k: pd.Series(dtype="object") for k in KEYS}), {}, {})
        long = long.assign(point_id=long["point_id"].astype("int64"), commune_id=long["commune_id"].astype("int64"))
        cell_codes, uniques = pd.MultiIndex.from_frame(long[list(KEYS)]).factorize()
        stats, stat_names = pd.factorize(long["stat"])
        n_cells, n_stats = len(uniques), len(stat_names)
        flat = np.asarray(cell_codes, dtype=np.int64) * n_stats + stats
        counts = np.bincount(flat, weights=long["n"].to_numpy(np.float64), minlength=n_cells * n_stats)
        sums = np.bincount(flat, weights=long["w"].fillna(0).to_numpy(np.float64), minlength=n_cells * n_stats)
        counts = counts.reshape(n_cells, n_stats).round().astype(np.int64)
        sums = sums.reshape(n_cells, n_stats)
        keys = pd.DataFrame(list(uniques), columns=list(KEYS))
        j_all = list(stat_names).index(STAT_ALL) if STAT_ALL in set(stat_names) else None
        keep = counts[:, j_all] > 0 if j_all is not None else np.zeros(n_cells, dtype=bool)
        keys = keys[keep].reset_index(drop=True)
        return cls(keys, {str(st): counts[keep, j] for j, st in enumerate(stat_names)},
                   {str(st): sums[keep, j] for j, st in enumerate(stat_names)})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, catalogue: Mapping[str, Any]) -> Cells:
        """The same sums from a report frame (services/report_frames.load_frame: coded columns q01…), summed per cell
        with bincount (memory linear in the rows, whatever the number of stats)."""
        if frame.empty:
            return cls.from_long(pd.DataFrame())
        base = pd.DataFrame({
            "commune_id": frame["commune_id"].astype("int64"), "sector": frame["sector"].astype(str),
            "mode": frame["mode"].astype(str),
            "point_id": frame["point_id"].fillna(0).astype("int64"),
            "stratum": frame["stratum"].fillna("").astype(str) if "stratum" in frame else "",
            "psu": frame["psu"].fillna("").astype(str) if "psu" in frame else "",
        })
        codes, uniques = pd.MultiIndex.from_frame(base[list(KEYS)]).factorize()
        cell = np.asarray(codes, dtype=np.int64)
        keys = pd.DataFrame(list(uniques), columns=list(KEYS))
        n_cells = len(keys)
        dw = (frame["design_weight"].astype("float64") if "design_weight" in frame
              else pd.Series(np.nan, index=frame.index)).to_numpy()
        dw0 = np.nan_to_num(dw)
        counts: dict[str, np.ndarray] = {}
        sums: dict[str, np.ndarray] = {}

        def add(stat: str, hit: np.ndarray) -> None:
            n = np.bincount(cell[hit], minlength=n_cells)
            if n.any():
                counts[stat] = counts.get(stat, 0) + n
                sums[stat] = sums.get(stat, 0) + np.bincount(cell[hit], weights=dw0[hit], minlength=n_cells)

        everyone = np.ones(len(frame), dtype=bool)
        add(STAT_ALL, everyone)
        add(STAT_WEIGHTED, ~np.isnan(dw))
        sector = base["sector"].to_numpy()
        for name, info in catalogue.items():
            in_s = sector == name
            if not in_s.any():
                continue
            cols = {it.column: it for it in info.items}
            for column, it in cols.items():
                values = frame[column].to_numpy()
                for level in LEVELS:
                    add(f"a:{it.id}={level}", in_s & (values == level))
            if info.overall and info.overall not in {it.id for it in info.items}:
                sat = frame["overall"].to_numpy()
                for value, level in ((1.0, 5), (0.0, 1)):  # only satisfied or not matters to the estimators
                    add(f"a:{info.overall}={level}", in_s & (sat == value))
            groups: dict[str, list[str]] = {"@index": list(cols), **{e: list(c) for e, c in info.elements().items()}}
            for element, columns in groups.items():
                add(f"e:{element}", in_s & frame[columns].notna().any(axis=1).to_numpy())
        keep = counts[STAT_ALL] > 0
        return cls(keys[keep].reset_index(drop=True), {k: np.asarray(v)[keep].astype(np.int64) for k, v in counts.items()},
                   {k: np.asarray(v, dtype=np.float64)[keep] for k, v in sums.items()})

    def design_keys(self, *, fieldwork: bool, self_selected: Sequence[str]) -> pd.DataFrame:
        """Strata and PSUs of the cells: the fieldwork design's, or commune × (point | commune-mode)."""
        k = self.keys.assign(point_id=self.keys["point_id"].astype("float64").where(self.keys["point_id"] > 0))
        if fieldwork:
            return k.assign(stratum=k["stratum"].astype(str), psu=k["stratum"].astype(str) + "/" + k["psu"].astype(str))
        has_point = k["point_id"].notna() & k["mode"].isin(list(self_selected))
        psu = np.where(has_point, "p" + k["point_id"].fillna(0).astype("int64").astype(str),
                       "c" + k["commune_id"].astype(str) + "-" + k["mode"].astype(str))
        return k.assign(stratum=k["commune_id"].astype(str), psu=psu)


def _compact_design(
    cells: Cells, keys: pd.DataFrame, variables: Mapping[str, Mapping[str, str]], *, weighted: bool,
    value: Callable[[int], float], sector: str | None = None,
) -> SurveyDesign:
    """Rows per cell × variable × answer value (summed weights) plus anchors; ``variables``: column → sector →
    item id. With ``sector``, cells of other sectors only keep their PSUs in the layout (no domain)."""
    parts = []
    in_scope = np.ones(len(keys), dtype=bool) if sector is None else (keys["sector"] == sector).to_numpy()
    for column, per_sector in variables.items():
        for s, item in per_sector.items():
            rows_s = in_scope & (keys["sector"] == s).to_numpy()
            if not rows_s.any():
                continue
            by_value: dict[float, np.ndarray] = {}
            for level in LEVELS:
                wt = cells.weight(f"a:{item}={level}", weighted=weighted) * rows_s
                by_value[value(level)] = by_value.get(value(level), 0.0) + wt
            for v, wt in by_value.items():
                idx = np.flatnonzero(wt > 0)
                parts.append(keys.iloc[idx].assign(_w=wt[idx], **{column: v}))
    anchors = keys[in_scope].assign(_w=1.0)
    others = keys[~in_scope].drop_duplicates(["stratum", "psu"]).assign(_w=1.0, sector=np.nan)
    frame = pd.concat([*parts, anchors, others], ignore_index=True)
    for column in variables:
        frame[column] = frame[column].astype(np.float64) if column in frame else np.nan
    return SurveyDesign(frame, weights="_w", strata="stratum", psu="psu", lonely_psu="adjust")


def _domain_sums(keys: pd.DataFrame, by: Sequence[str], arrays: Mapping[Any, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Per domain of ``by`` and per key of ``arrays``: summed counts ("n") and weights ("weight_sum")."""
    if by:
        dom_codes, dom_keys = pd.MultiIndex.from_frame(keys[list(by)]).factorize()
        dom = np.asarray(dom_codes, dtype=np.int64)
        frame = pd.DataFrame(list(dom_keys), columns=list(by))
    else:
        dom, frame = np.zeros(len(keys), dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1))
    valid = dom >= 0  # a missing key (NaN) is in no domain
    out = []
    for name, (n, w) in arrays.items():
        out.append(frame.assign(_key=[name] * len(frame),
                                n=np.bincount(dom[valid], weights=n[valid], minlength=len(frame)).round().astype(np.int64),
                                weight_sum=np.bincount(dom[valid], weights=w[valid], minlength=len(frame))))
    return pd.concat(out, ignore_index=True)


def _satisfied_level(level: int) -> float:
    return 1.0 if level >= 4 else 0.0


def overall_table(
    cells: Cells, keys: pd.DataFrame, overall: Mapping[str, str | None], *, by: Sequence[str], weighted: bool,
    level: float,
) -> pd.DataFrame:
    """R ``svyby(~overall, by, svymean, na.rm = TRUE)`` (satisfied = 4 or 5) from the cells."""
    items = {s: i for s, i in overall.items() if i}
    design = _compact_design(cells, keys, {"overall": items}, weighted=weighted, value=_satisfied_level)
    table = design.mean("overall", by=list(by), level=level)
    obs_n = np.zeros(len(keys))
    obs_w = np.zeros(len(keys))
    for s, item in items.items():
        rows_s = (keys["sector"] == s).to_numpy()
        for lv in LEVELS:
            obs_n += cells.count(f"a:{item}={lv}") * rows_s
            obs_w += cells.weight(f"a:{item}={lv}", weighted=weighted) * rows_s
    return _with_counts(table, _domain_sums(keys, by, {"overall": (obs_n, obs_w)}), list(by), ["variable"])


def _with_counts(table: pd.DataFrame, sums: pd.DataFrame, by: list[str], key_cols: list[str]) -> pd.DataFrame:
    sums = sums.rename(columns={"_key": key_cols[0]}) if len(key_cols) == 1 else sums
    if len(key_cols) > 1:
        sums[key_cols] = pd.DataFrame(sums.pop("_key").tolist(), index=sums.index)
    for col in by:  # the library hands domain keys back with their own dtype
        if col in table and col in sums:
            sums[col] = sums[col].astype(table[col].dtype)
    merged = table.drop(columns=["n", "weight_sum"]).merge(sums, on=[*by, *key_cols], how="left")
    merged["n"] = merged["n"].fillna(0).astype(np.int64)
    merged["weight_sum"] = merged["weight_sum"].fillna(0.0)
    for col in ("deff", "deff_replace", "n_eff"):
        if col in merged:
            merged[col] = np.nan
    return merged[list(table.columns)]


def sipas_table(
    cells: Cells, keys: pd.DataFrame, info: Any, *, by: Sequence[str], weighted: bool, level: float,
) -> pd.DataFrame:
    """``sipas_index(design, elements, by=["sector", *by], recode=True, items=True)`` of one sector's
    items (``info``: services/report_frames.SectorItems), restricted to the sector."""
    sector = info.sector
    elements = info.elements()
    columns = list(dict.fromkeys(c for cs in elements.values() for c in cs))
    by_column = {it.column: it.id for it in info.items}
    in_s = (keys["sector"] == sector).to_numpy()
    if not in_s.any():
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ["sector", *by, "component", *RESULT_COLUMNS]})
    design = _compact_design(cells, keys, {c: {sector: by_column[c]} for c in columns}, weighted=weighted,
                             value=_satisfied_level, sector=sector)
    by_all = ["sector", *by]
    table = sipas_index(design, elements, by=by_all, recode=False, items=True, level=level, overall="SIPAS")
    table = table[table["sector"] == sector].reset_index(drop=True)
    arrays: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
    for c in columns:
        n = sum((cells.count(f"a:{by_column[c]}={lv}") for lv in LEVELS), np.zeros(len(keys)))
        w = sum((cells.weight(f"a:{by_column[c]}={lv}", weighted=weighted) for lv in LEVELS), np.zeros(len(keys)))
        arrays[("item", c)] = (n * in_s, w * in_s)
    for name in elements:
        arrays[("element", name)] = (cells.count(f"e:{name}") * in_s, cells.weight(f"e:{name}", weighted=weighted) * in_s)
    arrays[("index", "SIPAS")] = (cells.count("e:@index") * in_s, cells.weight("e:@index", weighted=weighted) * in_s)
    sums = _domain_sums(keys[in_s].reset_index(drop=True), by_all,
                        {k: (n[in_s], w[in_s]) for k, (n, w) in arrays.items()})
    return _with_counts(table, sums, by_all, ["component", "variable"])


def distribution_table(
    cells: Cells, keys: pd.DataFrame, sector: str, item: str, column: str, *, weighted: bool, level: float,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """``design.proportion(column, by=["sector", *by], levels=1..5)`` restricted to the sector, from the cells."""
    design = _compact_design(cells, keys, {column: {sector: item}}, weighted=weighted, value=float, sector=sector)
    by_all = ["sector", *by]
    table = design.proportion(column, by=by_all, levels=[float(v) for v in LEVELS], level=level)
    table = table[table["sector"] == sector].reset_index(drop=True)
    in_s = (keys["sector"] == sector).to_numpy()
    n = sum((cells.count(f"a:{item}={lv}") for lv in LEVELS), np.zeros(len(keys)))
    w = sum((cells.weight(f"a:{item}={lv}", weighted=weighted) for lv in LEVELS), np.zeros(len(keys)))
    sums = _domain_sums(keys[in_s].reset_index(drop=True), by_all, {column: (n[in_s], w[in_s])})
    return _with_counts(table, sums, by_all, ["variable"])
