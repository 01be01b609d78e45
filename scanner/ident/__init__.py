"""Identifiers: one module per kind of record, each a pure function ``record -> Identification``.

The registry lives in ``scanner.identify``; rules are data in ``eol_data/rules``.
"""
