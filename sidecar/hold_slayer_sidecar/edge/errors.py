"""Errors of the SIP edge."""

from __future__ import annotations


class EdgeError(Exception):
    """The SIP edge cannot be configured, started or kept running."""


class EdgeConfigError(EdgeError):
    """The edge settings cannot be turned into a working kamailio configuration."""


class EdgeStartError(EdgeError):
    """kamailio refused the configuration, is missing, or did not answer after starting."""
