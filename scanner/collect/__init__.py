"""Collect: targets in, inventories and per-host statuses into the store (``legacyscan scan``).

The first stage of the pipeline, one job a module, in the order the data flows:

* ``config``     -- ``ScanConfig`` (the CLI's flags), ``ScanWindow``, ``parse_duration``, and the
  defaults sized for the machine and the fleet (threads, collector processes);
* ``engine``     -- ``FleetScanner``: selects (``--resume``), runs the worker threads or forks the
  collector processes, and is the one consumer that stores batches and records statuses;
* ``executors``  -- how one target is reached and collected: SSH (``SshConnector``,
  ``collect_ssh``) and WinRM (``collect_winrm``);
* ``status``     -- what a host's result is called (``classify`` a failure, ``judge_inventory``);
* ``ratelimit``  -- ``SiteRateLimiter`` (``--site-rate``);
* ``results``    -- ``Outcome`` per target, ``ScanSummary`` per run, the ``InventoryObserver`` seam;
* ``wire``       -- what a collector process sends the storing process (``pack``/``unpack``);
* ``children``   -- fork safety of the collector processes and the storing process's reader of
  their queue (death with the parent, imports before the fork, stack dumps of a silent child);
* ``progress``   -- ``Progress``: the bar or JSON lines on stderr.

Nothing is re-exported here: import from the module that owns a name, so that a light user (the
discovery engine needs only the window and the rate limit) does not load the fleet engine.
"""
