"""legacyscan core: identification, matching, ranking, storage, service and CLI."""

__version__ = "0.1.0"
