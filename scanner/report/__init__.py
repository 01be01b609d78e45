"""Report: judged hosts in, the display-ready view model every renderer in ``reports`` takes.

The last stage of the pipeline (``legacyscan report``, ``export --benchmark``), one job a module:

* ``stored``           -- ``StoredResults``: the latest (and previous) scan's host results read
  from the findings persisted at ingest, re-judging only the hosts whose state changed;
* ``model``            -- the view model every renderer takes (``EstateReport``, ``SiteReport``,
  ``HostRow``, ``Kpis``, the roll-up, plan, roadmap, register and evidence rows): types only;
* ``build``            -- ``build_report``: host results + exception register + ``legacyscan.toml``
  -> ``EstateReport`` (devices ranked with their action, KPIs and the change since the previous
  scan, product roll-ups, roadmap, plan, extended support, register, DSPT/CAF evidence);
* ``formats``          -- ``ReportFormat``, the formats the renderers draw;
* ``benchmark_export`` -- the anonymised benchmark document (``legacyscan-benchmark/1``) built from
  an ``EstateReport``'s numbers, never its device lists;
* ``benchmark_file``   -- reading another organisation's benchmark file back, strictly.

Imports inside the package: stored -> build -> model; benchmark_file -> benchmark_export -> model.
The renderers import ``model`` (and ``formats``), never ``build``.  Only the
composition root (``scanner.cli``) and the renderers (``reports``) import this package; it imports
the planning rules (``scanner.plan``: actions, priority, readiness, risk register), matching and the store.

Nothing is re-exported here: import from the module that owns a name (the store's and the
collect package's decision: a package's ``__init__`` would hide runtime edges from
``tests/unit/test_import_graph.py`` and load what a light user does not need).
"""
