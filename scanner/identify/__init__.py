"""Identify: a record -> (product, cycle), and that release's status on a date.

What ``legacyscan eol identify`` runs, one record at a time; the judge (``scanner.judge``) runs it
for every record of an inventory with the host's context.  Rules are data in ``eol_data/rules``.

* ``registry``   ``IdentifyContext``, the explicit identifier registries (OS by family, software
  by source), dispatch, and the contract evaluator (``evaluate``, ``verdict_for``);
* ``remember``   the one memoising wrapper (``Remembered``, keyed by the whole normalised record):
  what ``IdentifyContext`` asks its pure identifiers through, and ``eol identify``'s answers;
* ``answers``    ``eol identify``'s work: the ``Answers`` seam, the pure ``Evaluation``, its memo
  (``Remembered`` handing out copies) and the JSON Lines loop;
* ``explain``    what ``eol info`` and ``eol show`` say, as data (the dataset, a product's cycles, one verdict
  explained);
* ``verdict``    the phase rules: a release's status on a date (the one place they live);
* ``context``    ``Knowledge``, the catalog and rules an identifier reads (below the registry);
* identifiers, one pure function ``record, ctx -> Identification`` per kind of evidence:
  ``linux_os``, ``windows_os``, ``macos``, ``unix_os``, ``announced`` (discovered devices),
  ``packages`` (Linux/macOS packages), ``windows_apps``, ``site_rules`` (the site catalogue's own);
  ``versions``, the version schemes they compare with.

This ``__init__`` re-exports nothing: import from the module that owns a name.
"""
