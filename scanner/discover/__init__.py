"""Credential-free discovery: what each address runs, from what its services announce.

``legacyscan discover`` probes SSH, SMB, SNMP, HTTP(S) and RDP without logging in (one
connection per service, no vulnerability checks, no writes; ``docs/discovery.md`` lists every
byte each probe sends) and turns the answers into ordinary Inventories marked as discovered, so
the same identification, verdict and report code judges them.  One module per protocol; the
explicit probe table is ``registry.PROBES``.
"""
