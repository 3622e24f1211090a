"""Errors the core raises; the UI and the CLI show their message as it is."""


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
