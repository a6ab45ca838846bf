"""Design-based estimation for citizen-satisfaction surveys, matching R's ``survey`` package (Lumley, 4.1.1).

Pure library (numpy, pandas, scipy, statsmodels). Main entry points:

- :class:`SurveyDesign` — weights, strata, PSUs, fpc, lonely-PSU policy; ``mean``/``total``/``ratio``/
  ``proportion`` by any domains (vectorised, on the full design) with linearisation SEs, design effects and
  intervals; ``rake``/``poststratify``/``trim`` return calibrated designs whose SEs account for the calibration;
  ``jk1``/``jkn``/``bootstrap`` give a :class:`ReplicateDesign` that re-runs the calibration in every replicate.
- :mod:`analysis.weighting` and :mod:`analysis.calibration` — design weights, nonresponse adjustment, raking,
  post-stratification, trimming, Kish weighting effect.
- :mod:`analysis.intervals` — logit, Korn–Graubard, Wilson and Wald intervals for proportions, t intervals.
- :mod:`analysis.indices` — satisfaction coding, SIPAS element and overall indices, PAPI aggregation.
- :mod:`analysis.quality` — minimum-n suppression and CV flags.
- :mod:`analysis.sae` — Fay–Herriot small-area estimation.
- ``python -m analysis`` — command line (``estimate``, ``rake``, ``fay-herriot``).
"""

from .calibration import CalibratedWeights, CalibrationRecord, poststratify_weights, rake_weights
from .design import SurveyDesign
from .errors import CalibrationError, DesignError, EmptyDomainError, LonelyPSUError, SurveyError
from .indices import papi_component_score, papi_dimension, papi_total, satisfied, sipas_index
from .intervals import (
    effective_sample_size,
    korn_graubard_interval,
    logit_interval,
    proportion_interval,
    t_interval,
    wald_interval,
    wilson_interval,
)
from .margins import Margin, parse_margins
from .quality import quality_flags
from .replicate import ReplicateDesign
from .sae import FayHerriotResult, fay_herriot
from .weighting import (
    TrimResult,
    WeightSummary,
    design_weights,
    kish_weighting_effect,
    nonresponse_adjustment,
    trim_weights,
    weight_summary,
)

__all__ = [
    "CalibratedWeights",
    "CalibrationError",
    "CalibrationRecord",
    "DesignError",
    "EmptyDomainError",
    "FayHerriotResult",
    "LonelyPSUError",
    "Margin",
    "ReplicateDesign",
    "SurveyDesign",
    "SurveyError",
    "TrimResult",
    "WeightSummary",
    "design_weights",
    "effective_sample_size",
    "fay_herriot",
    "kish_weighting_effect",
    "korn_graubard_interval",
    "logit_interval",
    "nonresponse_adjustment",
    "papi_component_score",
    "papi_dimension",
    "papi_total",
    "parse_margins",
    "poststratify_weights",
    "proportion_interval",
    "quality_flags",
    "rake_weights",
    "satisfied",
    "sipas_index",
    "t_interval",
    "trim_weights",
    "wald_interval",
    "weight_summary",
    "wilson_interval",
]
