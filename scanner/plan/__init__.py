"""Plan: judged findings -> what to do about each device, when, and at what cost.

Below the report (``scanner.rank`` assembles the view model from these rules), above the judge:

* ``actions``        ``legacyscan.toml`` (``ReportConfig``), a device's one action (upgrade in place,
  replace, update applications) and its cost, ESU and extended-phase costs, NHS financial years;
* ``priority``       the documented, configurable score of a finding and of a device;
* ``readiness``      Windows 11 readiness of a Windows 10 device from its hardware facts;
* ``risk_register``  the exception / risk-acceptance register a trust edits (TOML or CSV).

This ``__init__`` re-exports nothing: import from the module that owns a name.
"""
