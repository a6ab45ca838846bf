"""Exceptions raised by the analysis library.

Every error the library raises on bad input derives from :class:`SurveyError` (itself a ``ValueError``) and
carries a one-line message that names the offending column, stratum, margin or level, so that the command line
can print it without a traceback.
"""

from __future__ import annotations

__all__ = [
    "CalibrationError",
    "DesignError",
    "EmptyDomainError",
    "LonelyPSUError",
    "SurveyError",
]


class SurveyError(ValueError):
    """Base class of the library's input errors."""


class DesignError(SurveyError):
    """The design specification is invalid (missing column, non-numeric or negative weight, bad fpc, ...)."""


class LonelyPSUError(DesignError):
    """A stratum has a single PSU and ``lonely_psu="fail"`` (R's default ``options(survey.lonely.psu="fail")``)."""


class CalibrationError(SurveyError):
    """Raking, post-stratification or trimming cannot be done.

    Raised for an empty margin level (a target with no respondents), a sample level with no target, margins whose
    totals disagree, missing values in a calibration variable, or an iterative fit that does not converge.
    """


class EmptyDomainError(SurveyError):
    """A domain has no usable observation for a variable (raised only when asked to, see ``on_empty``)."""
