"""Service: what agents send in -- the collector HTTP service (``legacyscan serve``) and its upload path.

Beside the pipeline's stages: an agent's upload becomes a stored inventory, judged like a scanned
host.  One job a module:

* ``server``         the ASGI app (Starlette, run by uvicorn): ``POST /v1/inventories``, the token's
  site, group commit, TLS; ``app_from_env`` is what uvicorn's worker processes import;
* ``protocol``       uvicorn's HTTP/1.1 protocols with a deadline for request heads (slowloris);
* ``upload``         an upload's body -> a validated inventory in its stored form;
* ``raw_documents``  the registry of raw collection documents (schema id -> parser): the PowerShell
  and sh agents' output, by upload or by ``legacyscan import`` (``scanner.imports.raw``).

The enrolment tokens the server checks are the store's (``scanner.store.enrolment``: the store
keeps their hashes and ``legacyscan tokens`` manages them through it).  Imports inside the package:
protocol -> server -> upload -> raw_documents.  This ``__init__`` re-exports nothing: import from
the module that owns a name.
"""
