"""The enforcement-publicity pipeline of a court's publicity office.

Stages, one module each: ``config`` (settings), ``sources`` (the shared
spreadsheet), ``intake`` (header mapping, validation, IDs), ``ledger``
(SQLite), ``jobs`` (pull, status, ...) and ``cli`` (the command line).
"""

__version__ = "0.1.0"
