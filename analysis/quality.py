"""Quality and disclosure flags for published estimates.

- ``suppress``: fewer than ``min_n`` respondents behind the estimate (too few to publish, and a disclosure risk).
- ``cv_flag``: coefficient of variation above ``max_cv`` (e.g. 0.30, the usual "use with caution" limit), or
  undefined (estimate 0 or no variance).
- ``reliability``: "suppress", "caution" or "ok".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import SurveyError

__all__ = ["quality_flags"]


def quality_flags(
    table: pd.DataFrame,
    *,
    min_n: int = 30,
    max_cv: float = 0.30,
    n_column: str = "n",
    cv_column: str = "cv",
) -> pd.DataFrame:
    """Add ``suppress``, ``cv_flag`` and ``reliability`` columns to an estimates table.

    Parameters
    ----------
    table : DataFrame
        Estimates, e.g. from :meth:`SurveyDesign.mean`.
    min_n : int, default 30
        Minimum number of respondents; below it the estimate is flagged for suppression.
    max_cv : float, default 0.30
        Largest acceptable coefficient of variation.
    n_column, cv_column : str
        Column names of the respondent count and the CV.

    Returns
    -------
    DataFrame
        A copy of ``table`` with the three columns added.
    """
    for col in (n_column, cv_column):
        if col not in table.columns:
            raise SurveyError(f"quality_flags needs column {col!r}")
    out = table.copy()
    n = pd.to_numeric(out[n_column]).to_numpy(dtype=np.float64)
    cv = pd.to_numeric(out[cv_column]).to_numpy(dtype=np.float64, na_value=np.nan)
    suppress = ~(n >= min_n)
    cv_flag = ~(cv <= max_cv)
    out["suppress"] = suppress
    out["cv_flag"] = cv_flag
    out["reliability"] = np.where(suppress, "suppress", np.where(cv_flag, "caution", "ok"))
    return out
