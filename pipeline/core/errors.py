"""The one error family of the pipeline.

Library exceptions are wrapped at the module edge with their context (the
config key, 素材页第17行, the workbook path); only the CLI turns a
:class:`PipelineError` into a message and an exit code.
"""

from __future__ import annotations

import json
import sqlite3

# What the ledger raises when it is busy or damaged, or holds a record that no longer reads (a damaged
# page's text, a JSON record cut short): the command line and the scheduler turn each into one line
# (``ledger.trouble``), never a traceback.
LEDGER_FAULTS = (sqlite3.Error, json.JSONDecodeError, UnicodeDecodeError)


class PipelineError(Exception):
    """A failure the user can act on; ``exit_code`` follows docs/architecture.md."""

    exit_code = 1


class ConfigError(PipelineError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = 2


class UsageError(PipelineError):
    """The command line asked for something impossible."""

    exit_code = 2


class SourceError(PipelineError):
    """The spreadsheet could not be read or written this cycle; retry later."""


class SourceBusy(SourceError):
    """Someone has the workbook open for editing, so writing now would race them."""


class SourceChanged(SourceError):
    """The workbook changed between our read and our write-back."""


class SheetLayoutError(PipelineError):
    """A tab or a column the pipeline needs is missing or ambiguous."""


class LedgerError(PipelineError):
    """The ledger database cannot be opened or is newer than this program."""
