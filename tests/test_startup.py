"""Start-up: a command loads what it uses. Importing the command line loads no workbook, document, template
or Google library, and ``status`` none of them either (each checked in a fresh interpreter; no time is
asserted: bench row g measures it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import NOW, PROJECT, Workspace, material, run_job

from pipeline.flows import pulling

HEAVY = ("openpyxl", "docx", "jinja2", "gspread", "google", "lxml", "schedule", "filelock")
# The masking and naming rules compile their regular expressions at import: a command that masks nothing
# (status) loads neither.
RULES = ("pipeline.texts.redact", "pipeline.texts.names", "pipeline.texts.compose", "pipeline.texts.factcheck")
# What only reading the sheet, drafting, sending by SMTP or keeping a log file uses: ``status`` and ``check``
# load none of it (the ledger's types live in core.model, a waiting write-back in flows.waiting, the SMTP
# side in mail.smtp, the log file in app.logfile).
JOBS_ONLY = ("pipeline.intake.tabs", "pipeline.flows.pulling", "pipeline.sources", "pipeline.flows.publishing",
             "pipeline.texts.document", "pipeline.mail.smtp", "smtplib", "ssl", "logging.handlers",
             "pipeline.app.logfile")
# Importing the command line builds no message and checks no address yet: no email package at all.
MAIL = ("email", "email.utils", "email.policy", "email.message", "pipeline.mail.message", "pipeline.mail.transport")
# What builds, queues and writes messages: ``status`` and ``check`` only read the ledger (the config's addresses
# are checked with the email package's address parser, which they do load).
SENDING = ("pipeline.mail.message", "pipeline.flows.dispatch", "pipeline.flows.channels", "email.policy",
           "email.generator", "email.parser", "email.mime", "mimetypes")


def loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``modules`` (by default :data:`HEAVY`) a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT, capture_output=True, text=True,
                          encoding="utf-8", timeout=120,
                          env={**os.environ, "PIPELINE_NOW": NOW, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_command_line_loads_no_workbook_document_template_or_google_library() -> None:
    assert loaded_after("import pipeline.app.cli") == []


def test_importing_the_command_line_loads_no_email_package_intake_drafting_smtp_or_log_file() -> None:
    assert loaded_after("import pipeline.app.cli", MAIL + JOBS_ONLY) == []


def command(workspace: Workspace, name: str) -> str:
    """Code that runs ``name`` on ``workspace`` through the command line, its output swallowed."""
    return ("import contextlib, io\nfrom pipeline.app import cli\nwith contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert cli.main(['--config', {str(workspace.config_path)!r}, {name!r}]) in (0, 1)")


def test_status_loads_no_workbook_document_template_or_google_library(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    code = ("import contextlib, io\nfrom pipeline.app import cli\nwith contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert cli.main(['--config', {str(workspace.config_path)!r}, 'status']) == 0")
    assert loaded_after(code) == []


def test_status_loads_neither_the_masking_nor_the_naming_rules(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    code = ("import contextlib, io\nfrom pipeline.app import cli\nwith contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert cli.main(['--config', {str(workspace.config_path)!r}, 'status']) == 0")
    assert loaded_after(code, RULES) == []
    assert loaded_after("import pipeline.app.cli", RULES) == []



def test_status_and_check_load_no_intake_drafting_smtp_or_log_file(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    assert loaded_after(command(workspace, "status"), JOBS_ONLY) == []
    assert loaded_after(command(workspace, "check"), JOBS_ONLY) == []
    # the probe sees them when a command does load them: a pull reads the sheet through intake
    assert "pipeline.intake.tabs" in loaded_after(command(workspace, "pull"), JOBS_ONLY)


def test_status_and_check_build_and_queue_no_message(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    assert loaded_after(command(workspace, "status"), SENDING) == []
    assert loaded_after(command(workspace, "check"), SENDING) == []
    # the probe sees them when a command does load them: the digest builds and queues its message
    assert "pipeline.flows.dispatch" in loaded_after(command(workspace, "digest"), SENDING)
