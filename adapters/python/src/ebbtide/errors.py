"""Errors an EbbtideCluster raises for things a user can act on."""

from __future__ import annotations


class EbbtideError(RuntimeError):
    """ebbtide refused or failed something; ``code`` is ebbtide's error class.

    The codes are ebbtide's own (``CONFIG_INVALID``, ``CONFIG_FILE``, ``CLUSTER_LOCKED``,
    ``DASHBOARD_UNREACHABLE``, ``INPUT_INVALID``, ...; see docs/errors.md), so a message reads
    the same as on ebbtide's command line.
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message


class EbbtideInputError(EbbtideError, ValueError):
    """The control API refused a value (HTTP 400): also a ``ValueError``, as Dask raises for bad arguments."""
