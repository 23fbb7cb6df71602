"""Talking to the Google Sheets API: credentials, the HTTP path, retries and errors.

This is the I/O edge of the Google Sheets backend (``gsheets.py`` shapes
what it returns into the source interface). It uses gspread 6's own HTTP
client, so requests take gspread's real path, with three things gspread
does not provide:

- an endpoint: gspread has no base-URL setting, so the client rewrites
  ``https://sheets.googleapis.com`` to ``[sheet] endpoint`` (a court's
  gateway or proxy, or the local stand-in in the tests);
- a timeout on every request, the token exchange included;
- bounded retries: 408, 429 and 5xx answers, timeouts and dropped
  connections are retried with truncated exponential backoff and jitter,
  as the Sheets API usage limits ask
  (https://developers.google.com/sheets/api/limits#exponential), honouring
  ``Retry-After`` (RFC 9110 §10.2.3), and given up after a bounded total
  time. gspread 6.2's ``BackOffHTTPClient`` is not used: it retries a
  persistent 429 forever, without jitter, and sleeps for real.

Library exceptions become :class:`~pipeline.errors.SourceError` (exit 1,
the next cycle retries) or :class:`~pipeline.errors.ConfigError` (exit 2:
the key file or the spreadsheet setting must be fixed) with one message
that says what to do. Secrets never appear in a message or a log line.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from google.auth import exceptions as auth_errors
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from gspread.exceptions import APIError, NoValidUrlKeyFound
from gspread.http_client import HTTPClient
from gspread.utils import extract_id_from_url

from ..core.errors import ConfigError, SourceError

log = logging.getLogger(__name__)

T = TypeVar("T")

GOOGLE_SHEETS_BASE = "https://sheets.googleapis.com"
# Read and write values; nothing in Drive (https://developers.google.com/sheets/api/scopes).
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"

_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_RETRY_STATUS = {408, 429}          # and every 5xx


# --- configuration: the key file and the spreadsheet -------------------------------

@dataclass(frozen=True)
class KeyFile:
    """A service-account key file, read and checked; ``raw`` feeds the process cache."""

    path: Path
    origin: str                     # where the path came from, for messages
    raw: bytes = field(repr=False)  # the private key is inside: never printed
    info: dict[str, Any] = field(repr=False)

    @property
    def client_email(self) -> str:
        return str(self.info["client_email"])


def read_key_file(configured: Path | None, config_file: Path, env: Mapping[str, str]) -> KeyFile:
    """The key file named by ``[sheet] credentials`` or GOOGLE_APPLICATION_CREDENTIALS.

    Raises ConfigError with one message naming the file and the problem;
    the key's content is never quoted.
    """
    if configured is not None:
        path, origin = configured, f"{config_file}: [sheet] credentials"
    elif env.get("GOOGLE_APPLICATION_CREDENTIALS", "").strip():
        path, origin = Path(env["GOOGLE_APPLICATION_CREDENTIALS"].strip()).expanduser(), \
            "环境变量 GOOGLE_APPLICATION_CREDENTIALS"
    else:
        raise ConfigError(f"{config_file}: [sheet] credentials 未设置，环境变量 GOOGLE_APPLICATION_CREDENTIALS 也未设置："
                          "请指定服务账号的 JSON 密钥文件（见 README“Google Sheets”一节）")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{origin}: 服务账号密钥文件不存在：{path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{origin}: {path} 是文件夹，应为服务账号的 JSON 密钥文件") from None
    except OSError as exc:
        raise ConfigError(f"{origin}: 无法读取服务账号密钥文件 {path}（{exc.strerror}）") from None
    try:
        info = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise ConfigError(f"{origin}: {path} 不是 JSON 格式的服务账号密钥文件（文件可能被截断或不是密钥）") from None
    kind = info.get("type") if isinstance(info, dict) else None
    if kind != "service_account":
        raise ConfigError(f"{origin}: {path} 不是服务账号密钥（type = {kind!r}，应为 \"service_account\"）；"
                          "请在 Google Cloud 控制台为服务账号创建 JSON 密钥")
    missing = [k for k in ("client_email", "private_key", "token_uri")
               if not isinstance(info.get(k), str) or not info[k].strip()]
    if missing:
        raise ConfigError(f"{origin}: 服务账号密钥文件 {path} 缺少字段 {', '.join(missing)}；请重新下载密钥")
    return KeyFile(path, origin, raw, info)


def credentials_for(key: KeyFile) -> service_account.Credentials:
    """google-auth service-account credentials; the token exchange goes to the file's ``token_uri``."""
    try:
        return service_account.Credentials.from_service_account_info(key.info, scopes=[SHEETS_SCOPE])
    except (ValueError, TypeError, IndexError):
        # The message of a key that does not parse could echo part of it: say only what to do.
        raise ConfigError(f"{key.origin}: {key.path} 中的私钥无法解析（文件可能被改动过）；请重新下载密钥") from None


def spreadsheet_key(value: str, where: str) -> str:
    """The spreadsheet ID from ``[sheet] spreadsheet``: the key itself or the sheet's browser URL."""
    text = value.strip()
    if "/" in text or ":" in text:
        try:
            text = extract_id_from_url(text)
        except NoValidUrlKeyFound:
            raise ConfigError(f"{where}: 网址中找不到表格 ID：{value!r}"
                              "（应形如 https://docs.google.com/spreadsheets/d/表格ID/edit）") from None
    if not _KEY.match(text):
        raise ConfigError(f"{where}: 不是 Google 表格的 ID 或网址：{value!r}")
    return text


# --- the HTTP path ------------------------------------------------------------------

class GatewayHTTPClient(HTTPClient):
    """gspread's HTTP client, sent to ``endpoint`` and never without a timeout.

    gspread builds every URL from ``https://sheets.googleapis.com``; the
    prefix is rewritten here, so a gateway may add a path of its own
    (``https://gw.court.example/sheets`` + ``/v4/spreadsheets/...``).
    """

    def __init__(self, credentials: service_account.Credentials, endpoint: str,
                 timeout: tuple[float, float]) -> None:
        # AuthorizedSession adds the bearer token and performs the token exchange
        # (RFC 7523 JWT bearer grant) with the same timeout as the request itself.
        super().__init__(credentials, session=AuthorizedSession(credentials))
        self.auth = credentials
        self.endpoint = endpoint.rstrip("/")
        self.set_timeout(timeout)

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        if endpoint.startswith(GOOGLE_SHEETS_BASE + "/"):
            endpoint = self.endpoint + endpoint[len(GOOGLE_SHEETS_BASE):]
        return super().request(method, endpoint, *args, **kwargs)


# --- retries ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    """How hard one request tries. The defaults give up after about a minute and seven tries.

    A request that starts inside the budget may still take its timeout, so
    one call lasts at most ``budget`` plus one ``timeout`` (connect + read).
    """

    budget: float = 90.0                       # no retry starts once this many seconds are spent
    first_wait: float = 1.0                    # 1, 2, 4, 8 ... seconds, plus up to 1 s of jitter
    longest_wait: float = 32.0                 # "maximum_backoff" of the Sheets API usage limits
    timeout: tuple[float, float] = (10.0, 60.0)  # connect, read (a 5,000-row read is a few MB)


def backoff(attempt: int, retry_after: float | None, policy: RetryPolicy, jitter: float) -> float:
    """Seconds to wait after failed try number ``attempt`` (1-based).

    Truncated exponential backoff with jitter, as the Sheets API asks:
    ``min(2**n + random, maximum_backoff)``. A server's Retry-After is a
    floor; the jitter still applies on top, so that several processes
    told the same Retry-After do not come back in the same instant.
    """
    wait = min(policy.first_wait * 2 ** (attempt - 1) + jitter, policy.longest_wait)
    if retry_after is not None:
        wait = max(wait, retry_after + jitter)
    return wait


@dataclass(frozen=True)
class _Failure:
    reason: str                                # Chinese, for the message
    retry: bool
    retry_after: float | None = None
    error: Exception | None = None             # raised as is when not retried


class GoogleClient:
    """The three Sheets API calls the backend makes, each retried within a bounded time.

    ``sleep``, ``clock`` and ``jitter`` are injectable so that tests move a
    fake clock instead of sleeping.
    """

    def __init__(self, key: KeyFile, spreadsheet: str, endpoint: str, *, policy: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 jitter: Callable[[], float] = random.random) -> None:
        self.key = key
        self.spreadsheet = spreadsheet
        self.endpoint = endpoint.rstrip("/")
        self.policy = policy
        self._sleep, self._clock, self._jitter = sleep, clock, jitter
        self.http = GatewayHTTPClient(credentials_for(key), self.endpoint, policy.timeout)
        # Called when an answer shows the kept metadata (tabs, protections) is out of date.
        self.on_stale_metadata: Callable[[], None] = lambda: None

    @property
    def account(self) -> str:
        return self.key.client_email

    def describe(self) -> str:
        via = "" if self.endpoint == GOOGLE_SHEETS_BASE else f"（经 {_public(self.endpoint)}）"
        return f"Google 表格 {self.spreadsheet}{via}"

    # -- the calls ------------------------------------------------------------------

    def metadata(self, fields: str) -> dict[str, Any]:
        """spreadsheets.get without grid data, limited to ``fields``."""
        return self.call("读取表格结构", lambda: self.http.fetch_sheet_metadata(
            self.spreadsheet, params={"includeGridData": "false", "fields": fields}))

    def batch_get(self, ranges: list[str], params: Mapping[str, str]) -> dict[str, Any]:
        """spreadsheets.values.batchGet: every range in one request."""
        # gspread adds ``ranges`` to the params it is given: hand it a fresh dict on every try.
        return self.call("读取", lambda: self.http.values_batch_get(self.spreadsheet, list(ranges),
                                                                     params=dict(params)))

    def batch_update(self, body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """spreadsheets.values.batchUpdate with a body built afresh for every try."""
        return self.call("写回", lambda: self.http.values_batch_update(self.spreadsheet, body=body()))

    # -- the retry loop ---------------------------------------------------------------

    def call(self, what: str, send: Callable[[], T]) -> T:
        """Run ``send`` until it succeeds, fails for good, or the policy's budget is spent."""
        started = self._clock()
        attempt = 0
        while True:
            try:
                result = send()
                if not isinstance(result, dict):
                    raise SourceError(f"{self.describe()}: {what}失败：应答不是 Sheets API 的 JSON 对象；"
                                      "请检查 [sheet] endpoint 是否指向 Sheets API 或其网关")
                return result  # type: ignore[return-value]
            except (APIError, requests.RequestException, auth_errors.GoogleAuthError, ValueError) as exc:
                failure = self._judge(exc)
            if not failure.retry:
                raise failure.error or SourceError(f"{self.describe()}: {what}失败：{failure.reason}")
            attempt += 1
            wait = backoff(attempt, failure.retry_after, self.policy, self._jitter())
            spent = self._clock() - started
            if spent + wait > self.policy.budget:
                hint = f"，服务器要求等待 {failure.retry_after:.0f} 秒" if failure.retry_after else ""
                raise SourceError(f"{self.describe()}: {what}失败：{failure.reason}；已尝试 {attempt} 次、"
                                  f"用时 {spent:.0f} 秒{hint}，本轮放弃，下一轮将重试")
            log.warning("%s: %s失败（%s），第 %d 次；等待 %.1f 秒后重试", self.describe(), what, failure.reason,
                        attempt, wait)
            self._sleep(wait)

    def _judge(self, exc: Exception) -> _Failure:
        """Whether a failure is worth another try, and what to tell the office if not."""
        where = self.describe()
        if isinstance(exc, APIError):
            return self._judge_api(exc)
        if isinstance(exc, requests.Timeout):
            return _Failure(f"{_public(self.endpoint)} 在 {self.policy.timeout[1]:g} 秒内没有应答", retry=True)
        if isinstance(exc, requests.exceptions.SSLError):
            return _Failure("", retry=False, error=SourceError(
                f"{where}: 与 {_public(self.endpoint)} 的 TLS 连接失败（证书无法验证）；请检查 [sheet] endpoint 或代理设置"))
        if isinstance(exc, requests.ConnectionError):
            return _Failure(f"无法连接 {_public(self.endpoint)}（网络或代理问题）", retry=True)
        if isinstance(exc, auth_errors.RefreshError):
            detail = str(exc.args[0]) if exc.args else type(exc).__name__
            if exc.retryable:
                return _Failure(f"令牌服务暂时不可用（{_short(detail)}）", retry=True)
            return _Failure("", retry=False, error=ConfigError(
                f"{self.key.origin}: 服务账号 {self.account} 的密钥被令牌服务拒绝（{_short(detail)}）；"
                f"密钥可能已被删除或撤销，请在 Google Cloud 控制台重新创建密钥并替换 {self.key.path}"))
        if isinstance(exc, auth_errors.TransportError):
            return _Failure(f"无法连接令牌服务 {self.key.info.get('token_uri')}", retry=True)
        if isinstance(exc, auth_errors.GoogleAuthError):
            return _Failure("", retry=False, error=ConfigError(
                f"{self.key.origin}: 服务账号凭据不可用（{_short(str(exc))}）"))
        if isinstance(exc, ValueError):
            # A 200 whose body is not JSON: a gateway's login or error page, not the API.
            return _Failure("", retry=False, error=SourceError(
                f"{where}: {_public(self.endpoint)} 返回的不是 Sheets API 的 JSON；"
                "请检查 [sheet] endpoint 是否指向 Sheets API 或其网关"))
        return _Failure("", retry=False, error=SourceError(
            f"{where}: 请求 {_public(self.endpoint)} 失败（{type(exc).__name__}）"))

    def _judge_api(self, exc: APIError) -> _Failure:
        response = exc.response
        # exc.code is -1 when a proxy answered with an HTML page: trust the HTTP status.
        status = response.status_code
        error = exc.error if isinstance(exc.error, Mapping) else {}
        message = _short(str(error.get("message") or response.reason or ""))
        where = self.describe()
        if status in _RETRY_STATUS or status >= 500:
            return _Failure(f"HTTP {status} {message}".strip(), retry=True,
                            retry_after=_retry_after(response))
        text = f"{error.get('status', '')} {message}".lower()
        if "protected" in text:
            # The source leaves out the cells the metadata shows as protected against the
            # account, so the protection is newer than the metadata: read it again next cycle.
            self.on_stale_metadata()
            return _Failure("", retry=False, error=SourceError(
                f"{where}: 写回被表格的保护范围拒绝（HTTP {status}）：保护设置可能在本轮读取后有变，本轮未写回任何单元格；"
                f"下一轮将重新读取保护设置，跳过服务账号 {self.account} 无权编辑的单元格并列出。"
                f"要让这些单元格也能写回，请把服务账号 {self.account} 加为该保护范围的编辑者（README“Google Sheets”一节）"))
        if status == 401:
            return _Failure("", retry=False, error=SourceError(
                f"{where}: Google 不接受服务账号 {self.account} 的访问令牌（401 {message}）；"
                "请确认该服务账号未被停用，必要时重新创建密钥"))
        if status == 403:
            if "service_disabled" in text or "has not been used" in text or "is disabled" in text:
                return _Failure("", retry=False, error=SourceError(
                    f"{where}: 服务账号所在的 Google Cloud 项目未启用 Google Sheets API（403）；"
                    "请在控制台“API 和服务”中启用 Google Sheets API"))
            return _Failure("", retry=False, error=SourceError(
                f"{where}: 无权访问该表格（403）：请在 Google 表格中点“共享”，把表格共享给服务账号 "
                f"{self.account}，权限设为“编辑者”"))
        if status == 404:
            return _Failure("", retry=False, error=SourceError(
                f"{where}: 找不到该电子表格（404）：请检查配置 [sheet] spreadsheet 中的表格 ID 或网址"
                + ("，以及网关地址 [sheet] endpoint" if self.endpoint != GOOGLE_SHEETS_BASE else "")))
        if status == 400 and "unable to parse range" in text:
            self.on_stale_metadata()
            return _Failure("", retry=False, error=SourceError(
                f"{where}: 读取期间有分页被改名或删除（{message}）；下一轮将重新读取分页列表"))
        return _Failure("", retry=False, error=SourceError(
            f"{where}: Sheets API 拒绝了请求（HTTP {status} {message}）"))


def _retry_after(response: requests.Response) -> float | None:
    """Retry-After in seconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(response.headers["Date"]) if response.headers.get("Date") else None
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = sent if sent is not None and sent.tzinfo is not None else datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _public(url: str) -> str:
    """``url`` without any ``user:password@`` a gateway address may carry."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1])) if "@" in parts.netloc else url


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
