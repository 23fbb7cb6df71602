"""Load the TOML configuration and validate it into typed settings.

The file follows the configuration contract of docs/architecture.md.
Validation happens once, at load: an unknown key, a wrong type or a missing
value raises :class:`ConfigError` naming the file and the key, so that a
mistyped setting can never lie dormant until the job that reads it fires at
08:30 on a Monday.

Relative paths resolve against the folder of the config file.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .calendar import WEEK_KEY
from .errors import ConfigError
from .model import KINDS

# Where the project's own files are. Run from the project folder (a clone, ``python run.py``), they are
# beside the package: config/pipeline.toml, templates/. Installed from a wheel, the package carries a copy
# of both (``_bundled``, made by setup.py), and the folder it runs in is the project folder: its config is
# ./pipeline.toml (``init`` writes it), its data and outbox lie beside it, and a templates/ folder there,
# if any, replaces the shipped templates.
_CHECKOUT = Path(__file__).resolve().parents[2]
_BUNDLED = Path(__file__).resolve().parents[1] / "_bundled"
INSTALLED = not (_CHECKOUT / "config" / "pipeline.toml").is_file()
if INSTALLED:
    PROJECT_ROOT = Path.cwd().resolve()
    DEFAULT_CONFIG = PROJECT_ROOT / "pipeline.toml"
    SHIPPED_CONFIG = _BUNDLED / "config" / "pipeline.toml"
    TEMPLATES = PROJECT_ROOT / "templates" if (PROJECT_ROOT / "templates").is_dir() else _BUNDLED / "templates"
else:
    PROJECT_ROOT = _CHECKOUT
    DEFAULT_CONFIG = PROJECT_ROOT / "config" / "pipeline.toml"
    SHIPPED_CONFIG = DEFAULT_CONFIG
    TEMPLATES = PROJECT_ROOT / "templates"
# How a person starts the program here: every message and mail that names a command says it this way.
COMMAND = "court-publicity" if INSTALLED else "python run.py"
GOOGLE_SHEETS_ENDPOINT = "https://sheets.googleapis.com"


def _meta(help: str, **extra: Any) -> dict[str, Any]:
    return {"help": help, **extra}


@dataclass(frozen=True)
class SheetSettings:
    backend: Literal["xlsx", "gsheets"] = field(default="xlsx", metadata=_meta("where the shared spreadsheet lives"))
    path: Path | None = field(default=None, metadata=_meta("the local workbook (xlsx backend)"))
    spreadsheet: str | None = field(default=None, metadata=_meta("Google spreadsheet key or URL"))
    credentials: Path | None = field(default=None, metadata=_meta("service-account key file"))
    endpoint: str = field(default=GOOGLE_SHEETS_ENDPOINT, metadata=_meta("Sheets API address or gateway"))
    retry_budget: float = field(default=90.0, metadata=_meta("seconds a Sheets request may spend retrying", lo=1, hi=3600, unit="秒"))
    timeout: float = field(default=60.0, metadata=_meta("seconds to wait for one Sheets API reply", lo=1, hi=600, unit="秒"))
    max_mb: int = field(default=200, metadata=_meta("the most megabytes a workbook may unpack to (xlsx)", lo=1, hi=10_000,
                                                                        unit="MB，工作簿解压后的大小"))
    max_rows: int = field(default=20_000, metadata=_meta("the most rows a tab may reach down to", lo=100, hi=1_048_576,
                                                                          unit="行"))
    max_columns: int = field(default=200, metadata=_meta("the most columns a tab may reach across to", lo=30, hi=16_384,
                                                                        unit="列，素材页本身就有 19 列"))
    max_row_chars: int = field(default=20_000, metadata=_meta("the most characters one 素材 row may hold", lo=1000,
                                                                              hi=1_000_000, unit="字"))


@dataclass(frozen=True)
class LedgerSettings:
    path: Path = field(metadata=_meta("the SQLite ledger file"))
    wait_seconds: float = field(default=30.0, metadata=_meta(
        "how long a command waits for another program's write to the ledger before it gives up", lo=0.1, hi=3600,
        unit="秒"))


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = field(default=465, metadata=_meta("the mail server's port", lo=1, hi=65535))
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str | None = None
    password_env: str = "PIPELINE_SMTP_PASSWORD"
    timeout: float = field(default=30.0, metadata=_meta("seconds to wait for the server", lo=1, hi=600, unit="秒"))
    ca_file: Path | None = field(default=None, metadata=_meta("CA certificate(s) of a private mail server"))


@dataclass(frozen=True)
class MailSettings:
    sender: str = field(metadata=_meta("From: of every message", kind="address"))
    office: tuple[str, ...] = field(metadata=_meta("the office's addresses", kind="addresses"))
    transport: Literal["outbox", "smtp"] = "outbox"
    outbox: Path = Path("outbox")
    max_attempts: int = field(default=8, metadata=_meta("tries before a temporary failure is given up", lo=1, hi=100, unit="次"))
    retry_after: float = field(default=300.0, metadata=_meta("seconds before the first retry; doubles each time", lo=1,
                                                                             hi=86_400, unit="秒"))
    retry_cap: float = field(default=21600.0, metadata=_meta("the longest wait between two retries, in seconds", lo=1,
                                                                             hi=604_800, unit="秒"))
    rate_per_minute: int = field(default=0, metadata=_meta("messages per minute at most (0: no limit)", hi=10_000,
                                                                          unit="封每分钟，0 为不限"))
    max_message_mb: float = field(default=10.0, metadata=_meta("the largest message sent, attachments included", lo=0.1,
                                                                             hi=100, unit="MB，含附件"))
    smtp: SmtpSettings = SmtpSettings()


@dataclass(frozen=True)
class IntakeSettings:
    default_quota: int = field(default=3, metadata=_meta("items a team owes a week when 每周任务 is blank", hi=100,
                                                                           unit="条"))


@dataclass(frozen=True)
class CourtSettings:
    name: str = field(default="儋州市人民法院", metadata=_meta("the court, as releases name their source"))
    office: str = field(default="执行宣传工作办公室", metadata=_meta("the office that signs mail"))
    contact: str = field(default="", metadata=_meta("contact line printed under releases"))

    def as_context(self) -> dict[str, str]:
        """The court as every template sees it: ``court.name``, ``court.office``, ``court.contact``."""
        return {"name": self.name, "office": self.office, "contact": self.contact}


@dataclass(frozen=True)
class RulesSettings:
    exempt_weeks: tuple[str, ...] = field(default=(), metadata=_meta("ISO weeks without weekly rules", kind="weeks"))
    plan_lead_days: int = field(default=3, metadata=_meta("days a major operation's plan is due before it", hi=60, unit="天"))
    conference_pack_days: int = field(default=7, metadata=_meta(
        "days before a planned press conference the digest offers its pack (0: never)", hi=60,
        unit="天，0 为不在每日简报中提示"))


@dataclass(frozen=True)
class ReviewSettings:
    reviewers: tuple[str, ...] = field(default=("符贤", "高琼芳", "赵刚", "王小露"),
                                       metadata=_meta("office members whose 审核 rows are honoured"))


@dataclass(frozen=True)
class RedactSettings:
    public_name_kinds: tuple[str, ...] = field(
        default=("惩戒失信", "教科书式老赖"),
        metadata=_meta("kinds whose 被执行人 stay named (the dishonest-debtor list is public)", kind="kinds"))


@dataclass(frozen=True)
class DraftSettings:
    slot_weekday: int = field(default=3, metadata=_meta("ISO weekday (1 = Monday) by which the weekly slots are proposed",
                                                                 lo=1, hi=7, unit="1 为周一，7 为周日"))


@dataclass(frozen=True)
class ScheduleSettings:
    cycle_minutes: int = field(default=15, metadata=_meta("pull → draft → publish every N minutes in office hours", lo=1,
                                                                           hi=1440, unit="分钟"))
    office_hours: tuple[str, ...] = field(default=("08:00", "18:00"), metadata=_meta("start and end", kind="span"))
    office_days: tuple[int, ...] = field(default=(1, 2, 3, 4, 5), metadata=_meta("ISO weekdays", kind="weekdays"))
    digest: str = field(default="08:30", metadata=_meta("daily digest time", kind="time"))
    digest_days: tuple[int, ...] = field(default=(1, 2, 3, 4, 5), metadata=_meta("ISO weekdays", kind="weekdays"))
    remind: str = field(default="Thu 16:00", metadata=_meta("weekly reminders", kind="weekly"))
    weekly_summary: str = field(default="Mon 09:00", metadata=_meta("weekly summary", kind="weekly"))
    monthly_summary: str = field(default="1 09:00", metadata=_meta("monthly report: day of month and time",
                                                                  kind="monthly"))
    brief: str = field(default="2 09:00", metadata=_meta("the deputies' monthly brief: day of month and time",
                                                        kind="monthly"))
    job_timeout: float = field(default=900.0, metadata=_meta("seconds before a job is given up as hung", lo=10, hi=86_400,
                                                                              unit="秒"))
    tick_seconds: float = field(default=30.0, metadata=_meta("how often the loop looks for due jobs", lo=1, hi=3600, unit="秒"))


@dataclass(frozen=True)
class SummarySettings:
    leaders: tuple[str, ...] = field(default=(), metadata=_meta("the leadership group", kind="addresses"))
    higher_court: tuple[str, ...] = field(default=(), metadata=_meta("the higher court's office", kind="addresses"))


@dataclass(frozen=True)
class ChannelSettings:
    wechat: bool = field(default=True, metadata=_meta("a WeChat article for every approved release"))
    weibo: bool = field(default=True, metadata=_meta("a Weibo post for every approved release"))
    website: bool = field(default=True, metadata=_meta("a news item for the court's website"))
    network: bool = field(default=False, metadata=_meta("mail every approved release to the national network"))
    network_address: str = field(default="", metadata=_meta("the national network's submission address",
                                                            kind="address-or-blank"))
    hashtag: str = field(default="#基本解决执行难#", metadata=_meta("the campaign hashtag of every Weibo post"))
    weibo_limit: int = field(default=140, metadata=_meta("characters a Weibo post may use (Weibo's counting)", lo=40,
                                                                             hi=5000, unit="字"))
    link: str = field(default="[原文链接]", metadata=_meta("where the office puts the article's link in a post"))


@dataclass(frozen=True)
class DeputySettings:
    addresses: tuple[str, ...] = field(default=(), metadata=_meta(
        "people's deputies and CPPCC members: the monthly brief and the visits' invitations", kind="addresses"))
    brief: bool = field(default=True, metadata=_meta("send them the monthly brief (简报)"))
    invitations: bool = field(default=True, metadata=_meta("draft an invitation for every 代表委员看执行 visit"))
    editor: str = field(default="", metadata=_meta("who issues the brief (blank: the court's 执行局)"))


@dataclass(frozen=True)
class LogSettings:
    path: Path = field(default=Path("logs/pipeline.log"), metadata=_meta(
        "the log file of the commands that change something (run, once, pull, publish …)"))
    max_mb: int = field(default=5, metadata=_meta("megabytes the log file reaches before it is rotated", lo=1,
                                                  hi=1000, unit="MB"))
    keep: int = field(default=10, metadata=_meta("rotated files kept (pipeline.log.1 … .N), the oldest dropped",
                                                 lo=1, hi=100, unit="个"))
    format: Literal["text", "json"] = field(default="text", metadata=_meta(
        "text: one line of words and key=value fields; json: one JSON object a line"))


@dataclass(frozen=True)
class Settings:
    """The validated configuration; ``source`` is the file it came from."""

    sheet: SheetSettings
    ledger: LedgerSettings
    mail: MailSettings
    timezone: ZoneInfo = ZoneInfo("Asia/Shanghai")
    court: CourtSettings = CourtSettings()
    intake: IntakeSettings = IntakeSettings()
    rules: RulesSettings = RulesSettings()
    review: ReviewSettings = ReviewSettings()
    redact: RedactSettings = RedactSettings()
    draft: DraftSettings = DraftSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    summaries: SummarySettings = SummarySettings()
    channels: ChannelSettings = ChannelSettings()
    deputies: DeputySettings = DeputySettings()
    log: LogSettings = LogSettings()
    source: Path = field(default=DEFAULT_CONFIG, metadata=_meta("", internal=True))


def load(path: Path | None = None) -> Settings:
    """Read and validate the config at ``path`` (the embedded default when None)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: 找不到配置文件（{COMMAND} init 可生成）") from None
    except OSError as exc:
        raise ConfigError(f"{path}: 无法读取配置文件：{exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: 配置文件不是 UTF-8 编码的文本（用记事本打开后“另存为”，编码选 UTF-8）") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: 配置文件格式有误{_toml_place(exc)}：请检查该处的引号、等号和方括号") from None
    return parse(data, path.resolve())


def _toml_place(exc: tomllib.TOMLDecodeError) -> str:
    """Where TOML's parser stopped, in words: （第 3 行第 5 列附近）."""
    found = re.search(r"line (\d+), column (\d+)", str(exc))
    return f"（第 {found[1]} 行第 {found[2]} 列附近）" if found else ""


def parse(data: dict[str, Any], source: Path) -> Settings:
    """Validate an already-decoded TOML document that was read from ``source``."""
    if "source" in data:
        raise ConfigError(f"{source}: source：没有这个设置项")
    builder = _Builder(source)
    settings = builder.build(Settings, {**data, "source": source}, section="")
    _check_consistency(settings)
    return settings


def _check_consistency(settings: Settings) -> None:
    sheet, where = settings.sheet, settings.source
    if sheet.backend == "xlsx" and sheet.path is None:
        raise ConfigError(f"{where}: [sheet] backend = \"xlsx\" 时必须填写 [sheet] path（工作簿文件）")
    if sheet.backend == "gsheets" and not sheet.spreadsheet:
        raise ConfigError(f"{where}: [sheet] backend = \"gsheets\" 时必须填写 [sheet] spreadsheet（在线表格的地址或编号）")
    if not sheet.endpoint.startswith(("https://", "http://")):
        raise ConfigError(f"{where}: [sheet] endpoint 应为 http(s) 地址，现为 {sheet.endpoint!r}")
    if not settings.mail.office:
        raise ConfigError(f"{where}: [mail] office 至少要填一个宣传办邮箱")
    channels = settings.channels
    if channels.network and not channels.network_address.strip():
        raise ConfigError(f"{where}: [channels] network = true 时必须填写 network_address（全国法院执行信息网的投稿邮箱），"
                          "或改为 network = false")
    smtp = settings.mail.smtp
    if smtp.security == "none" and smtp.username and not is_loopback(smtp.host):
        raise ConfigError(f"{where}: [mail.smtp] security = \"none\" 会把密码以明文发给 {smtp.host}；"
                          "请改为 \"ssl\" 或 \"starttls\"")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (a password may cross loopback in the clear)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Builder:
    """Turns nested TOML tables into the frozen dataclasses above, strictly."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, section: str, key: str, problem: str) -> ConfigError:
        location = f"[{section}] {key}" if section else key
        return ConfigError(f"{self.source}: {location}: {problem}")

    def build(self, cls: type, table: dict[str, Any], section: str) -> Any:
        hints = typing.get_type_hints(cls)
        known = {f.name: f for f in dataclasses.fields(cls)}
        for key in table:
            if key not in known or known[key].metadata.get("internal") and key != "source":
                allowed = "、".join(n for n, f in known.items() if not f.metadata.get("internal"))
                raise self.fail(section, key, f"没有这个设置项（此处可用：{allowed}）")
        values: dict[str, Any] = {}
        for name, fld in known.items():
            if name not in table:
                if fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
                    if dataclasses.is_dataclass(hints[name]):
                        table = {**table, name: {}}
                    else:
                        raise self.fail(section, name, "缺少此项")
                elif dataclasses.is_dataclass(hints[name]):
                    # A section left out is read as an empty one: its relative default paths resolve too.
                    table = {**table, name: {}}
                elif isinstance(fld.default, Path):
                    # A relative default path resolves like a written one.
                    values[name] = self.convert(Path, str(fld.default), section, name, fld.metadata)
                    continue
                else:
                    continue
            values[name] = self.convert(hints[name], table[name], section, name, fld.metadata)
        return cls(**values)

    def convert(self, hint: Any, value: Any, section: str, key: str, meta: Any) -> Any:
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in args if a is not type(None)]
            return self.convert(inner[0], value, section, key, meta)
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise self.fail(section, key, f"应为一节 [{_join(section, key)}]，现为 {value!r}")
            return self.build(hint, value, _join(section, key))
        if origin is Literal:
            if value not in args:
                choices = " | ".join(f'"{a}"' for a in args)
                raise self.fail(section, key, f"只能是 {choices} 之一，现为 {value!r}")
            return value
        if hint is ZoneInfo:
            if not isinstance(value, str):
                raise self.fail(section, key, f"应为时区名（如 \"Asia/Shanghai\"），现为 {value!r}")
            try:
                return ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise self.fail(section, key, f"没有时区 {value!r}（北京时间写 \"Asia/Shanghai\"）") from None
        if hint is Path:
            if isinstance(value, Path):
                return value
            if not isinstance(value, str) or not value.strip():
                raise self.fail(section, key, f"应为文件或文件夹的路径（加引号），现为 {value!r}")
            path = Path(value).expanduser()
            return path if path.is_absolute() else (self.source.parent / path).resolve()
        if origin is tuple and args and args[0] is int:
            if not isinstance(value, list) or not all(isinstance(v, int) and 1 <= v <= 7 for v in value):
                raise self.fail(section, key, f"应为星期几的列表，1（周一）到 7（周日），如 [1, 2, 3, 4, 5]，现为 {value!r}")
            return tuple(value)
        if origin is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(section, key, f"应为加引号的文字列表，如 [\"甲\", \"乙\"]，现为 {value!r}")
            if meta.get("kind") == "addresses":
                for item in value:
                    self.check_address(item, section, key)
            if meta.get("kind") == "span":
                if len(value) != 2 or not all(_TIME.fullmatch(v) for v in value) or value[0] >= value[1]:
                    raise self.fail(section, key, f"应为 [\"08:00\", \"18:00\"]（开始早于结束），现为 {value!r}")
            if meta.get("kind") == "kinds":
                for item in value:
                    if item not in KINDS:
                        raise self.fail(section, key, f"没有类别 {item!r}（类别：{'、'.join(KINDS)}）")
            if meta.get("kind") == "weeks":
                for item in value:
                    if not WEEK_KEY.fullmatch(item):
                        raise self.fail(section, key, f"应为周的编号，如 \"2027-W06\"（2027年第6周），现为 {item!r}")
            return tuple(value)
        if hint is bool:
            if not isinstance(value, bool):
                raise self.fail(section, key, f"应为 true 或 false，现为 {value!r}")
            return value
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(section, key, f"应为整数，现为 {value!r}")
            return self.within(value, section, key, meta, 0)
        if hint is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(section, key, f"应为数字，现为 {value!r}")
            return float(self.within(value, section, key, meta, 0.001))
        if hint is str:
            if not isinstance(value, str):
                raise self.fail(section, key, f"应为加引号的文字，现为 {value!r}")
            if meta.get("kind") == "address" or meta.get("kind") == "address-or-blank" and value.strip():
                self.check_address(value, section, key)
            kind = meta.get("kind")
            if kind == "time" and not _TIME.fullmatch(value):
                raise self.fail(section, key, f"应为时间，如 \"08:30\"，现为 {value!r}")
            if kind == "weekly" and not _WEEKLY.fullmatch(value):
                raise self.fail(section, key, f"应为星期和时间，如 \"Thu 16:00\"（周四16:00；Mon Tue Wed Thu Fri Sat Sun），现为 {value!r}")
            if kind == "monthly" and not _MONTHLY.fullmatch(value):
                raise self.fail(section, key, f"应为每月几号（1—28）和时间，如 \"1 09:00\"，现为 {value!r}")
            return value
        raise TypeError(f"config field {key} has an unsupported type {hint!r}")  # a programming error, never a user's

    def within(self, value: float, section: str, key: str, meta: Any, lowest: float) -> float:
        """A number inside its range (``lo``/``hi`` in the field's metadata; never below ``lowest``)."""
        lo, hi = meta.get("lo", lowest), meta.get("hi")
        if value < lo or hi is not None and value > hi:
            span = f"{lo:g} 到 {hi:g} 之间" if hi is not None else f"不小于 {lo:g}"
            unit = f"（{meta['unit']}）" if meta.get("unit") else ""
            raise self.fail(section, key, f"应在 {span}{unit}，现为 {value:g}")
        return value

    def check_address(self, value: str, section: str, key: str) -> None:
        from email.headerregistry import Address    # the email package loads only where an address is checked
        from email.utils import parseaddr

        _, addr = parseaddr(value)
        try:
            parsed = Address(addr_spec=addr)
        except (ValueError, IndexError):
            parsed = None
        if not addr or parsed is None or not parsed.domain or "." not in parsed.domain:
            raise self.fail(section, key, f"不是邮箱地址：{value!r}")


_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKLY = re.compile(rf"({'|'.join(WEEKDAYS)}) ([01]\d|2[0-3]):[0-5]\d")
_MONTHLY = re.compile(r"([1-9]|1\d|2[0-8]) ([01]\d|2[0-3]):[0-5]\d")


def _join(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def render_default(data_prefix: str = "") -> str:
    """The default config's text, with its data paths under ``data_prefix``.

    ``init --config NEW.toml`` writes this beside a config file that does
    not exist yet; the committed ``config/pipeline.toml`` is the same text
    with ``../`` so that its data lives at the project's top level.
    Installed, ``init`` writes it as ./pipeline.toml, with its data beside it.
    """
    text = SHIPPED_CONFIG.read_text(encoding="utf-8")
    return text.replace('"../', f'"{data_prefix}')
