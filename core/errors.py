"""Errors the core raises; the UI and the CLI show their message as it is."""

from __future__ import annotations

from pathlib import Path


class JobdashError(Exception):
    """Base class: the message is meant for the user."""


class ConfigError(JobdashError):
    """jobdash.toml or the environment is wrong; nothing has been written."""


class SyncBusy(JobdashError):
    """Another sync holds the cross-process lock."""


class SourceError(JobdashError):
    """A source failed to fetch; the sync records it and goes on."""


class QueryError(JobdashError):
    """A catalog query failed or its input was invalid."""


class UnknownColumn(QueryError):
    """A column name that is not in the registry."""


class NotFound(JobdashError):
    """A job id, snapshot or view that does not exist."""


class StorageError(JobdashError):
    """A SQLite file (user data and runs in jobdash.sqlite, the search index in search.sqlite) could not be
    read or written: locked by another process, damaged, missing a table, or on a full or read-only disk.

    The message names the file and says what to do; ``path`` is the file, ``code`` SQLite's error name
    (``SQLITE_BUSY``, ``SQLITE_CORRUPT`` …) and ``detail`` SQLite's own message."""

    def __init__(self, message: str, *, path: Path | None = None, code: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.code = code
        self.detail = detail
