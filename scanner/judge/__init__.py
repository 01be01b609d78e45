"""Judge: an inventory, with its host's context, -> findings, and their status on every date.

Below the report, above identification (``scanner.identify``: a record -> product, cycle, status):

* ``match``                 ``match_inventory``: every record of an inventory identified and judged with
  the host's OS release and supplier, components collapsed into one finding per product release;
* ``distribution_builds``   who built a Linux package and, for the distribution's own build, the
  distribution's verdict (the host OS's, Debian's security-support lists) instead of upstream's;
* ``distribution_data``     parsers of Ubuntu's apt indexes and SUSE's lifecycle data read on the host;
* ``timeline``              ``Judge``: an inventory judged once per dataset into stored finding rows
  with the date ranges of their statuses (what the store writes and the BI views read);
* ``builds``                ``BuildMemo``: what derives from a package list alone, once per distinct list.

This ``__init__`` re-exports nothing: import from the module that owns a name.
"""
