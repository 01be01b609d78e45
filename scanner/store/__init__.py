"""Store: every inventory kept, judged when stored, queryable by SQL (SQLite or PostgreSQL).

The persistence stage of the pipeline, one job a module, from the bottom up:

* ``columns``    -- what every value goes through at the store boundary: ``host_key``, a text
  column's form, an indexed column's length (judging and matching use it without the store);
* ``enrolment``  -- per-site enrolment tokens for agent uploads: generation, the hash kept, the
  stored record (the collector service checks them, ``legacyscan tokens`` manages them);
* ``views``      -- the SQL views BI tools read (docs/bi.md), versioned (``VIEWS_VERSION``);
* ``schema``     -- the one schema definition and its migrations, rendered per dialect;
* ``relational`` -- the relational rows of one stored inventory: software, package lists,
  findings and their status ranges;
* ``sqlite``     -- the ``Store`` contract, ``StoreError``, ``HostStatus``, the document codec
  (``encode_*``, ``decode_body``, ``decode_header``) and ``SqliteStore``, the embedded default;
* ``postgres``   -- ``PostgresStore``, the central database a trust's sites report to;
* ``open``       -- ``open_store(url)``: a URL to a backend, with the installed dataset's judge;
* ``retention``  -- ``prune``: what the trust no longer keeps (``[retention]``, ``legacyscan prune``).

Nothing is re-exported here: import from the module that owns a name, so that a light user
(the judge needs only ``columns`` and ``schema``) does not load a backend.
"""
