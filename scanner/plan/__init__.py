"""Plan: judged findings -> what to do about each device, when, and at what cost.

Below the report (``scanner.report.build`` assembles the view model from these rules), above the judge:

* ``config``         ``legacyscan.toml``: ``ReportConfig`` (costs, ESU prices, report and plan settings,
  the site catalogue's priced entitlements), validated with errors that name the key;
* ``actions``        a device's one action (upgrade in place, replace, update applications), what it
  clears and costs, ESU and extended-phase costs, a release's spoken name;
* ``periods``        NHS financial years and quarters (April to March), ``median``;
* ``priority``       the documented, configurable score of a finding and of a device;
* ``readiness``      Windows 11 readiness of a Windows 10 device from its hardware facts;
* ``risk_register``  the exception / risk-acceptance register a trust edits (TOML or CSV).

This ``__init__`` re-exports nothing: import from the module that owns a name.
"""
