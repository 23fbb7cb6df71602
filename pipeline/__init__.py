"""The enforcement-publicity pipeline of a court's publicity office.

The folders follow the data flow, lowest first: ``core`` (settings, shared types, the calendar),
``plan`` (the work plan's obligations and the review lifecycle), ``mail``, ``sources`` (the shared
spreadsheet), ``intake`` (header mapping, validation, IDs), ``texts`` (releases, masking, notices),
``ledger`` (SQLite), ``flows`` (the jobs) and ``app`` (the command line and the scheduler).
docs/architecture.md walks through them.
"""

__version__ = "0.1.0"
