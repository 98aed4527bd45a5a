"""Exceptions with messages meant for people: what is wrong, where, and what to do."""

from __future__ import annotations


class AnalysisError(Exception):
    """Base class for every error the project reports to a user (exit status 2)."""


class InputError(AnalysisError):
    """A raw or curated input file is missing, malformed, or does not match its record."""


class SchemaValidationError(InputError):
    """A fact table that does not match its schema.

    Defined here rather than in `facts.schemas` (which imports pandas and pandera) so that
    `facts.validation` can raise it without that cost, and neither of the two imports the other
    to get it (`facts.schemas` and `facts.validation` re-export it).
    """


class UnknownProvinceError(AnalysisError, KeyError):
    """A name that is not a province-level unit or a known alias of one."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class EnvironmentSetupError(AnalysisError):
    """Something the set-up should have installed (a font, a package) is missing."""
