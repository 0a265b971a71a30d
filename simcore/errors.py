"""Exceptions and warnings raised by simcore.

Every error simcore raises on bad input derives from :class:`SimcoreError` and names the
culprit (file, key, sector or label) and what was expected.  The hierarchy is::

    SimcoreError
    ├── TableError                 a malformed or inconsistent IO table
    │   ├── LabelError             duplicate, missing or mismatched labels; unknown sector
    │   ├── NonFiniteError         NaN or inf in a table
    │   ├── BalanceError           row or column balances off beyond tolerance
    │   ├── NonProductiveError     spectral radius of A >= 1, or I - A singular
    │   └── NegativeOutputError    negative gross output
    ├── ShockError                 an invalid shock (share outside 0..1, negative duration, ...)
    ├── ParameterError             an invalid model parameter
    ├── ScenarioError              an invalid scenario file (unknown key, wrong type, ...)
    ├── DesignError                an invalid sweep design
    ├── DataError                  an embedded dataset is missing or corrupt
    └── KernelError                a numerical kernel returned a failure status

Each also derives from the matching built-in (``ValueError``, ``KeyError`` ...), so code that
catches the built-in keeps working.
"""

from __future__ import annotations

__all__ = [
    "SimcoreError",
    "TableError",
    "LabelError",
    "NonFiniteError",
    "BalanceError",
    "NonProductiveError",
    "NegativeOutputError",
    "ShockError",
    "ParameterError",
    "ScenarioError",
    "DesignError",
    "DataError",
    "KernelError",
    "SimcoreWarning",
]


class SimcoreError(Exception):
    """Base class of every error raised by simcore."""


class TableError(SimcoreError, ValueError):
    """A malformed or inconsistent input-output table."""


class LabelError(TableError, KeyError):
    """Duplicate, missing, unknown or mismatched labels (sectors, items, regions)."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class NonFiniteError(TableError):
    """A table holds NaN or infinite values."""


class BalanceError(TableError):
    """Row or column balances of a table are violated beyond tolerance."""


class NonProductiveError(TableError):
    """The technical-coefficient matrix is not productive (spectral radius >= 1)."""


class NegativeOutputError(TableError):
    """A sector has negative gross output."""


class ShockError(SimcoreError, ValueError):
    """An invalid shock specification."""


class ParameterError(SimcoreError, ValueError):
    """An invalid model parameter."""


class ScenarioError(SimcoreError, ValueError):
    """An invalid scenario file or scenario dictionary."""


class DesignError(SimcoreError, ValueError):
    """An invalid sweep design."""


class DataError(SimcoreError, OSError):
    """An embedded or user data file is missing, unreadable or corrupt."""


class KernelError(SimcoreError, RuntimeError):
    """A numerical kernel reported a failure (negative stock, non-finite state, ...)."""


class SimcoreWarning(UserWarning):
    """Warnings issued by simcore (turned into errors in simcore's own test suite)."""
