"""The TOML config: validated at load, every mistake named by file and key."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.core import config
from pipeline.core.errors import ConfigError

MINIMAL = """
[sheet]
path = "book.xlsx"
[ledger]
path = "ledger.sqlite3"
[mail]
sender = "执行宣传工作办公室 <office@court.example>"
office = ["office@court.example"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        config.load(write(tmp_path, text))
    return str(caught.value)


def test_the_shipped_default_is_the_embedded_local_setup() -> None:
    settings = config.load()
    assert settings.sheet.backend == "xlsx"
    assert settings.sheet.path == config.PROJECT_ROOT / "data" / "workbook.xlsx"
    assert settings.ledger.path == config.PROJECT_ROOT / "data" / "ledger.sqlite3"
    assert settings.mail.transport == "outbox"
    assert settings.mail.outbox == config.PROJECT_ROOT / "outbox"
    assert settings.timezone == ZoneInfo("Asia/Shanghai")


def test_the_example_for_google_sheets_and_smtp_is_valid() -> None:
    settings = config.load(config.PROJECT_ROOT / "config" / "gsheets-smtp.example.toml")
    assert settings.sheet.backend == "gsheets"
    assert settings.mail.smtp.security == "ssl"


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    settings = config.load(write(tmp_path, MINIMAL))
    assert settings.sheet.path == (tmp_path / "book.xlsx").resolve()
    assert settings.ledger.path == (tmp_path / "ledger.sqlite3").resolve()
    assert settings.mail.outbox == (tmp_path / "outbox").resolve()


def test_defaults_fill_what_is_left_out(tmp_path: Path) -> None:
    settings = config.load(write(tmp_path, MINIMAL))
    assert settings.timezone == ZoneInfo("Asia/Shanghai")
    assert settings.intake.default_quota == 3
    assert settings.mail.smtp.port == 465
    assert settings.mail.smtp.password_env == "PIPELINE_SMTP_PASSWORD"


def test_an_unknown_key_is_named_with_its_section_and_file(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "\n[mail.smtp]\nprot = 25\n")
    assert str(tmp_path / "pipeline.toml") in message
    assert "[mail.smtp] prot" in message
    assert "没有这个设置项" in message


def test_an_unknown_top_level_key_is_an_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'timezon = "Asia/Shanghai"\n' + MINIMAL)
    assert "timezon: 没有这个设置项" in message


def test_an_unknown_section_is_an_error(tmp_path: Path) -> None:
    assert "shet: 没有这个设置项" in load_error(tmp_path, MINIMAL + "\n[shet]\npath = 'x'\n")


def test_a_wrong_type_names_the_key_and_the_expected_type(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + '\n[mail.smtp]\nport = "465"\n')
    assert "[mail.smtp] port" in message and "应为整数" in message


def test_a_boolean_is_not_accepted_as_an_integer(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "\n[intake]\ndefault_quota = true\n")
    assert "[intake] default_quota" in message


def test_a_choice_outside_the_allowed_values_lists_them(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + '\n[mail.smtp]\nsecurity = "tls"\n')
    assert '"ssl" | "starttls" | "none"' in message


def test_a_missing_section_value_is_named(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL.replace('path = "ledger.sqlite3"', ""))
    assert "[ledger] path: 缺少此项" in message


def test_an_unknown_time_zone_is_an_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'timezone = "Beijing"\n' + MINIMAL)
    assert "timezone" in message and "Beijing" in message


def test_an_office_address_that_is_not_an_address_is_an_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL.replace('office = ["office@court.example"]', 'office = ["office"]'))
    assert "[mail] office" in message and "'office'" in message


def test_google_sheets_needs_a_spreadsheet(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL.replace('[sheet]\n', '[sheet]\nbackend = "gsheets"\n'))
    assert "必须填写 [sheet] spreadsheet" in message


def test_invalid_toml_reports_the_file_and_the_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "\n[mail\n")
    assert "配置文件格式有误" in message and "行" in message


def test_a_missing_config_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="init"):
        config.load(tmp_path / "absent.toml")
