"""legacyscan core: identification, matching, ranking, storage, service and CLI."""

__version__ = "0.2.0.dev0"
