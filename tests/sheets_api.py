"""A local Google Sheets API v4 stand-in: a real HTTP server on 127.0.0.1, for the gsheets tests.

It answers what the backend asks, the way Google does, over real HTTP so
that gspread and google-auth take their real paths:

    POST /token                                     OAuth 2.0 JWT-bearer grant (RFC 7523): a key file's token_uri
    GET  /v4/spreadsheets/{id}                      spreadsheets.get (metadata, protected ranges)
    GET  /v4/spreadsheets/{id}/values/{range}       values.get
    GET  /v4/spreadsheets/{id}/values:batchGet      values.batchGet
    PUT  /v4/spreadsheets/{id}/values/{range}       values.update
    POST /v4/spreadsheets/{id}/values:batchUpdate   values.batchUpdate

Any path prefix before ``/v4/`` is accepted and recorded (a gateway's own
path). Behaviour copied from the API: trailing empty cells and rows are
left out of values; dates render as serial numbers or strings per
``dateTimeRenderOption``; RAW writes store strings as they are and ``""``
clears a cell; a batchUpdate applies all or nothing; protected ranges stop
writes by anyone not among their editors, except in their unprotected
ranges; false booleans and zero IDs are left out of the JSON (proto3
defaults); errors use Google's body ``{"error": {"code", "message", "status"}}``.

For the tests: a request log with a counter per kind, and faults on demand
(429 or 503 for the next N requests or for T seconds, with or without
Retry-After; stalls longer than a client's timeout).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
API_KINDS = frozenset({"spreadsheets.get", "values.get", "values.batchGet", "values.update", "values.batchUpdate"})
EPOCH = datetime(1899, 12, 30)

_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           408: "DEADLINE_EXCEEDED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE",
           503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_MESSAGES = {
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
         "other valid authentication credential.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of "
         "service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}
PROTECTED = ("You are trying to edit a protected cell or object. Please contact the spreadsheet owner to "
             "remove protection if you need to edit it.")


class ApiError(Exception):
    def __init__(self, code: int, message: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message or _MESSAGES.get(code, "Error")
        self.headers = dict(headers or {})


# --- the spreadsheet model ------------------------------------------------------------

Bounds = tuple[int, int] | None              # 0-based, end exclusive; None: unbounded


def _within(bounds: Bounds, number: int) -> bool:
    """Whether 1-based ``number`` lies inside ``bounds``."""
    return bounds is None or bounds[0] < number <= bounds[1]


@dataclass
class Protection:
    """A ProtectedRange: a whole tab unless ``rows``/``columns`` bound it (0-based, end exclusive).

    ``unprotected`` holds its unprotectedRanges, each as (rows, columns):
    holes anyone who may edit the sheet may write.
    """

    editors: set[str]
    warning_only: bool = False
    rows: Bounds = None
    columns: Bounds = None
    id: int = 0
    unprotected: tuple[tuple[Bounds, Bounds], ...] = ()

    def covers(self, row: int, column: int) -> bool:
        """Whether 1-based (row, column) lies inside, and not in one of its holes."""
        return (_within(self.rows, row) and _within(self.columns, column)
                and not any(_within(rows, row) and _within(columns, column) for rows, columns in self.unprotected))


@dataclass
class Tab:
    title: str
    sheet_id: int
    rows: list[list[Any]]
    row_count: int = 1000
    column_count: int = 26
    protections: list[Protection] = field(default_factory=list)

    def get(self, row: int, column: int) -> Any:
        if row <= len(self.rows) and column <= len(self.rows[row - 1]):
            return self.rows[row - 1][column - 1]
        return None

    def put(self, row: int, column: int, value: Any) -> None:
        while len(self.rows) < row:
            self.rows.append([])
        cells = self.rows[row - 1]
        while len(cells) < column:
            cells.append(None)
        cells[column - 1] = value


@dataclass
class Spreadsheet:
    key: str
    title: str
    tabs: list[Tab]
    shared_with: set[str] | None = None        # None: anyone with a token may open it

    def tab(self, title: str) -> Tab:
        for tab in self.tabs:
            if tab.title == title:
                return tab
        raise KeyError(title)


@dataclass
class Fault:
    status: int                                 # 0: no error, only the stall
    kinds: frozenset[str]
    remaining: int | None = None                # requests left to spoil (None: until ``until``)
    until: float | None = None                  # the stand-in's clock
    retry_after: str | None = None
    stall: float = 0.0                          # real seconds to wait before answering

    def active(self, now: float) -> bool:
        if self.remaining is not None:
            return self.remaining > 0
        return self.until is not None and now < self.until


@dataclass
class Seen:
    """One request the stand-in received (logged on arrival; ``status`` 0 until answered)."""

    kind: str
    method: str
    prefix: str
    query: dict[str, list[str]]
    body: Any = None
    status: int = 0
    caller: str = ""


# --- the server -----------------------------------------------------------------------------

class SheetsStandIn:
    """The stand-in: ``url`` is the endpoint for ``[sheet] endpoint``; ``token_uri`` goes in key files.

    ``clock`` decides when a time-limited fault ends; tests pass the same
    fake clock the source sleeps on.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.log: list[Seen] = []
        self.faults: list[Fault] = []
        self.tokens: dict[str, str] = {}            # access token -> client_email
        self.trusted: dict[str, Any] = {}           # client_email -> public key (signature checked)
        self.revoked: set[str] = set()
        self.lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="sheets-stand-in", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def start(self) -> SheetsStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SheetsStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- content ---------------------------------------------------------------------

    def add_spreadsheet(self, key: str, tabs: Mapping[str, list[list[Any]]], *, title: str = "执行宣传素材",
                        shared_with: Iterable[str] | None = None) -> Spreadsheet:
        """A spreadsheet whose tabs hold these rows (Python values: str, numbers, bool, dates, None)."""
        sheets = []
        for index, (name, rows) in enumerate(tabs.items()):
            copied = [list(row) for row in rows]
            width = max((len(r) for r in copied), default=0)
            sheets.append(Tab(name, index * 1000 + 7 if index else 0, copied,
                              row_count=max(1000, len(copied) + 100), column_count=max(26, width)))
        book = Spreadsheet(key, title, sheets, set(shared_with) if shared_with is not None else None)
        with self.lock:
            self.spreadsheets[key] = book
        return book

    def protect(self, key: str, title: str, *, editors: Iterable[str] = (), warning_only: bool = False,
                rows: Bounds = None, columns: Bounds = None,
                unprotected: Iterable[tuple[Bounds, Bounds]] = ()) -> None:
        """Protect a range of a tab (the whole tab by default); ``unprotected``: its holes, as (rows, columns)."""
        with self.lock:
            tab = self.spreadsheets[key].tab(title)
            tab.protections.append(Protection(set(editors), warning_only, rows, columns,
                                              id=1000 + len(tab.protections), unprotected=tuple(unprotected)))

    def unprotect(self, key: str, title: str) -> None:
        with self.lock:
            self.spreadsheets[key].tab(title).protections.clear()

    def cells(self, key: str, title: str) -> list[list[Any]]:
        """The tab's stored values, trailing blanks trimmed (a copy)."""
        with self.lock:
            rows = [_trim(list(r), None) for r in self.spreadsheets[key].tab(title).rows]
        while rows and not rows[-1]:
            rows.pop()
        return rows

    def set_rows(self, key: str, title: str, rows: list[list[Any]]) -> None:
        """Replace a tab's content, as a person editing in the browser would."""
        with self.lock:
            tab = self.spreadsheets[key].tab(title)
            tab.rows = [list(r) for r in rows]
            tab.row_count = max(tab.row_count, len(rows))

    # -- credentials ---------------------------------------------------------------------

    def service_account(self, folder: Path, email: str = "pipeline@court-sheets.iam.gserviceaccount.com",
                        *, trusted: bool = True) -> Path:
        """Write a throw-away service-account key file whose token_uri is this stand-in."""
        private = _throwaway_key()
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        info = {"type": "service_account", "project_id": "court-sheets", "private_key_id": "0" * 40,
                "private_key": pem, "client_email": email, "client_id": "100000000000000000001",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": self.token_uri}
        path = Path(folder) / "service-account.json"
        path.write_text(json.dumps(info, indent=2), encoding="utf-8")
        if trusted:
            with self.lock:
                self.trusted[email] = private.public_key()
        return path

    # -- faults and counts ---------------------------------------------------------------

    def fail(self, status: int, *, times: int | None = None, seconds: float | None = None,
             retry_after: float | str | None = None, kinds: Iterable[str] = API_KINDS) -> None:
        """Answer ``status`` to the next ``times`` requests of ``kinds``, or for ``seconds``."""
        assert (times is None) != (seconds is None), "give times or seconds"
        with self.lock:
            self.faults.append(Fault(status, frozenset(kinds), times,
                                     None if seconds is None else self.clock() + seconds,
                                     None if retry_after is None else str(retry_after)))

    def stall(self, seconds: float, *, times: int = 1, kinds: Iterable[str] = API_KINDS) -> None:
        """Hold the next ``times`` requests for ``seconds`` of real time before answering them."""
        with self.lock:
            self.faults.append(Fault(0, frozenset(kinds), times, stall=seconds))

    def heal(self) -> None:
        with self.lock:
            self.faults.clear()

    def count(self, kind: str, *, status: int | None = None) -> int:
        with self.lock:
            return sum(1 for s in self.log if s.kind == kind and (status is None or s.status == status))

    def counts(self) -> dict[str, int]:
        with self.lock:
            found: dict[str, int] = {}
            for seen in self.log:
                found[seen.kind] = found.get(seen.kind, 0) + 1
            return found

    def forget_log(self) -> None:
        with self.lock:
            self.log.clear()

    def seen(self, kind: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.log if s.kind == kind]

    # -- answering -----------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, list[str]], headers: Mapping[str, str],
               body: bytes) -> tuple[int, dict[str, str], Any]:
        kind, prefix, params = _route(method, path)
        seen = Seen(kind, method, prefix, query)
        with self.lock:
            self.log.append(seen)
        payload: Any = None
        caller = ""
        fault = None
        try:
            with self.lock:
                fault = self._take_fault(kind)
            if fault is not None and fault.stall:
                time.sleep(fault.stall)
            if fault is not None and fault.status:
                raise ApiError(fault.status, headers={"Retry-After": fault.retry_after} if fault.retry_after else {})
            if kind == "token":
                payload = body.decode()
                return self._record(seen, payload, 200, "",
                                    (200, {}, self._token(parse_qs(payload))))
            payload = json.loads(body) if body else None
            with self.lock:
                caller = self._caller(headers)
                if kind == "unknown":
                    raise ApiError(404, f"Method not found: {method} {path}")
                book = self._book(params["id"], caller)
                result = getattr(self, "_" + kind.replace(".", "_"))(book, caller, query, params, payload)
            return self._record(seen, payload, 200, caller, (200, {}, result))
        except ApiError as exc:
            if kind == "token":
                reply = {"error": "invalid_grant", "error_description": exc.message} if exc.code == 400 else \
                    {"error": "server_error", "error_description": exc.message}
            else:
                reply = {"error": {"code": exc.code, "message": exc.message,
                                   "status": _STATUS.get(exc.code, "UNKNOWN")}}
            return self._record(seen, payload, exc.code, caller, (exc.code, exc.headers, reply))

    def _record(self, seen, body, status, caller, reply):
        with self.lock:
            seen.body, seen.status, seen.caller = body, status, caller
        return reply

    def _take_fault(self, kind: str) -> Fault | None:
        now = self.clock()
        for fault in self.faults:
            if kind in fault.kinds and fault.active(now):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def _token(self, form: dict[str, list[str]]) -> dict[str, Any]:
        if form.get("grant_type") != [JWT_GRANT] or not form.get("assertion"):
            raise ApiError(400, "Invalid grant_type or missing assertion.")
        header_b64, payload_b64, signature_b64 = (form["assertion"][0].split(".") + ["", ""])[:3]
        try:
            claims = json.loads(_unb64(payload_b64))
            signature = _unb64(signature_b64)
        except ValueError:
            raise ApiError(400, "Invalid JWT.") from None
        issuer = str(claims.get("iss", ""))
        with self.lock:
            public = self.trusted.get(issuer)
            revoked = issuer in self.revoked
        if revoked:
            raise ApiError(400, "Invalid JWT Signature.")
        if public is not None:
            try:
                public.verify(signature, f"{header_b64}.{payload_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
            except Exception:
                raise ApiError(400, "Invalid JWT Signature.") from None
        if SHEETS_SCOPE not in str(claims.get("scope", "")).split():
            raise ApiError(400, "Invalid OAuth scope or ID token audience provided.")
        with self.lock:
            token = f"ya29.stand-in-{len(self.tokens) + 1}"
            self.tokens[token] = issuer
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _caller(self, headers: Mapping[str, str]) -> str:
        auth = headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in self.tokens:
            raise ApiError(401)
        return self.tokens[token]

    def _book(self, key: str, caller: str) -> Spreadsheet:
        book = self.spreadsheets.get(key)
        if book is None:
            raise ApiError(404)
        if book.shared_with is not None and caller not in book.shared_with:
            raise ApiError(403)
        return book

    # spreadsheets.get ----------------------------------------------------------------

    def _spreadsheets_get(self, book, caller, query, params, payload):
        if query.get("includeGridData", ["false"])[0] != "false":
            raise ApiError(400, "This stand-in serves metadata only: includeGridData must be false.")
        sheets = []
        for index, tab in enumerate(book.tabs):
            props = _dropping_defaults({"sheetId": tab.sheet_id, "title": tab.title, "index": index,
                                        "sheetType": "GRID",
                                        "gridProperties": {"rowCount": tab.row_count,
                                                           "columnCount": tab.column_count}})
            entry: dict[str, Any] = {"properties": props}
            if tab.protections:
                entry["protectedRanges"] = [self._protected_range(tab, p, caller) for p in tab.protections]
            sheets.append(entry)
        return {"spreadsheetId": book.key, "properties": {"title": book.title, "locale": "zh_CN",
                                                          "timeZone": "Asia/Shanghai"},
                "sheets": sheets, "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.key}/edit"}

    @staticmethod
    def _protected_range(tab: Tab, protection: Protection, caller: str) -> dict[str, Any]:
        can_edit = protection.warning_only or caller in protection.editors
        out = {"protectedRangeId": protection.id, "range": _grid_range(tab, protection.rows, protection.columns),
               "warningOnly": protection.warning_only, "requestingUserCanEdit": can_edit}
        if protection.unprotected:
            out["unprotectedRanges"] = [_grid_range(tab, rows, columns) for rows, columns in protection.unprotected]
        if can_edit and not protection.warning_only:
            # Editors are only shown to those who may edit the range.
            out["editors"] = {"users": sorted(protection.editors)}
        return _dropping_defaults(out)

    # values ---------------------------------------------------------------------------

    def _values_get(self, book, caller, query, params, payload):
        return self._read(book, params["range"], query)

    def _values_batchGet(self, book, caller, query, params, payload):
        ranges = query.get("ranges", [])
        if not ranges:
            raise ApiError(400, "Must specify at least one range.")
        return {"spreadsheetId": book.key, "valueRanges": [self._read(book, r, query) for r in ranges]}

    def _read(self, book: Spreadsheet, a1: str, query: dict[str, list[str]]) -> dict[str, Any]:
        tab, top, left, bottom, right = _parse_range(book, a1)
        bottom = tab.row_count if bottom is None else bottom
        right = tab.column_count if right is None else right
        value_option = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
        date_option = query.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[0]
        dimension = query.get("majorDimension", ["ROWS"])[0]
        rows = []
        last = min(bottom, len(tab.rows))
        for row in range(top, last + 1):
            values = [_render(tab.get(row, column), value_option, date_option)
                      for column in range(left, min(right, tab.column_count) + 1)]
            rows.append(_trim(values, ""))
        while rows and not rows[-1]:
            rows.pop()
        if dimension == "COLUMNS":
            width = max((len(r) for r in rows), default=0)
            rows = [_trim([r[i] if i < len(r) else "" for r in rows], "") for i in range(width)]
            while rows and not rows[-1]:
                rows.pop()
        out: dict[str, Any] = {"range": f"{_quoted(tab.title)}!{_a1(top, left)}:{_a1(bottom, right)}",
                               "majorDimension": dimension}
        if rows:
            out["values"] = rows
        return out

    def _values_update(self, book, caller, query, params, payload):
        option = query.get("valueInputOption", [""])[0]
        data = dict(payload or {})
        data.setdefault("range", params["range"])
        (summary,) = self._write(book, caller, option, [data])
        return {"spreadsheetId": book.key, **summary}

    def _values_batchUpdate(self, book, caller, query, params, payload):
        payload = payload or {}
        summaries = self._write(book, caller, payload.get("valueInputOption", ""), payload.get("data") or [])
        cells = sum(s["updatedCells"] for s in summaries)
        return {"spreadsheetId": book.key, "totalUpdatedRows": sum(s["updatedRows"] for s in summaries),
                "totalUpdatedColumns": sum(s["updatedColumns"] for s in summaries), "totalUpdatedCells": cells,
                "totalUpdatedSheets": len({s["updatedRange"].rsplit("!", 1)[0] for s in summaries}),
                "responses": [{"spreadsheetId": book.key, **s} for s in summaries]}

    def _write(self, book: Spreadsheet, caller: str, option: str, data: list[dict[str, Any]]) -> list[dict]:
        """Check every range first, then apply them all: a batch is all or nothing."""
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "'valueInputOption' is required but not specified")
        writes: list[tuple[Tab, int, int, Any]] = []
        summaries = []
        for item in data:
            tab, top, left, bottom, right = _parse_range(book, str(item.get("range", "")))
            values = item.get("values") or []
            if item.get("majorDimension", "ROWS") == "COLUMNS":
                width = max((len(r) for r in values), default=0)
                values = [[r[i] if i < len(r) else None for r in values] for i in range(width)]
            height, width = len(values), max((len(r) for r in values), default=0)
            if bottom is not None and top + height - 1 > bottom or right is not None and left + width - 1 > right:
                raise ApiError(400, f"Requested writing within range [{item.get('range')}], but tried writing "
                                    f"{height} rows and {width} columns")
            if top + height - 1 > tab.row_count or left + width - 1 > tab.column_count:
                raise ApiError(400, f"Range ({item.get('range')}) exceeds grid limits. Max rows: "
                                    f"{tab.row_count}, max columns: {tab.column_count}")
            for r, row in enumerate(values):
                for c, value in enumerate(row):
                    if value is None:
                        continue  # "Null values will be skipped"
                    for protection in tab.protections:
                        if not protection.warning_only and caller not in protection.editors \
                                and protection.covers(top + r, left + c):
                            raise ApiError(400, PROTECTED)
                    writes.append((tab, top + r, left + c, _stored(value, option)))
            summaries.append({"updatedRange": f"{_quoted(tab.title)}!{_a1(top, left)}"
                                              f":{_a1(top + max(height, 1) - 1, left + max(width, 1) - 1)}",
                              "updatedRows": height, "updatedColumns": width, "updatedCells": height * width})
        for tab, row, column, value in writes:
            tab.put(row, column, value)
        return summaries


def _grid_range(tab: Tab, rows: Bounds, columns: Bounds) -> dict[str, Any]:
    """A GridRange: 0-based, end exclusive, unbounded sides and sheetId 0 left out."""
    cells: dict[str, Any] = {"sheetId": tab.sheet_id}
    if rows:
        cells.update(startRowIndex=rows[0], endRowIndex=rows[1])
    if columns:
        cells.update(startColumnIndex=columns[0], endColumnIndex=columns[1])
    return _dropping_defaults(cells)


# --- the HTTP handler -------------------------------------------------------------------------

def _handler(api: SheetsStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"           # keep-alive, as Google's front end
        timeout = 30

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, reply = api.answer(self.command, parts.path,
                                                parse_qs(parts.query, keep_blank_values=True),
                                                self.headers, body)
            data = json.dumps(reply, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True   # the client timed out and left

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    return Handler


_PATHS = [
    ("POST", re.compile(r"^(?P<prefix>.*)/token$"), "token"),
    ("GET", re.compile(r"^(?P<prefix>.*)/v4/spreadsheets/(?P<id>[^/:]+)/values:batchGet$"), "values.batchGet"),
    ("POST", re.compile(r"^(?P<prefix>.*)/v4/spreadsheets/(?P<id>[^/:]+)/values:batchUpdate$"), "values.batchUpdate"),
    ("GET", re.compile(r"^(?P<prefix>.*)/v4/spreadsheets/(?P<id>[^/:]+)/values/(?P<range>[^/]+)$"), "values.get"),
    ("PUT", re.compile(r"^(?P<prefix>.*)/v4/spreadsheets/(?P<id>[^/:]+)/values/(?P<range>[^/]+)$"), "values.update"),
    ("GET", re.compile(r"^(?P<prefix>.*)/v4/spreadsheets/(?P<id>[^/:]+)$"), "spreadsheets.get"),
]


def _route(method: str, path: str) -> tuple[str, str, dict[str, str]]:
    for verb, pattern, kind in _PATHS:
        match = pattern.match(path)
        if verb == method and match:
            found = {k: unquote(v) for k, v in match.groupdict().items()}
            return kind, found.pop("prefix"), found
    return "unknown", "", {}


# --- A1 notation and values ---------------------------------------------------------------------

_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


def _parse_range(book: Spreadsheet, a1: str) -> tuple[Tab, int, int, int | None, int | None]:
    """(tab, top, left, bottom, right), 1-based; None where the range is unbounded."""
    text = a1.strip()
    if text.startswith("'"):
        end, title = 1, ""
        while end < len(text):
            if text[end] == "'" and text[end + 1:end + 2] == "'":
                title, end = title + "'", end + 2
            elif text[end] == "'":
                break
            else:
                title, end = title + text[end], end + 1
        rest = text[end + 1:]
        if rest and not rest.startswith("!"):
            raise ApiError(400, f"Unable to parse range: {a1}")
        cells = rest[1:]
    elif "!" in text:
        title, cells = text.rsplit("!", 1)
    else:
        titles = {t.title for t in book.tabs}
        title, cells = (text, "") if text in titles else (book.tabs[0].title, text)
    try:
        tab = book.tab(title)
    except KeyError:
        raise ApiError(400, f"Unable to parse range: {a1}") from None
    if not cells:
        return tab, 1, 1, None, None
    first, _, second = cells.partition(":")
    start, end = _CELL.match(first), _CELL.match(second or first)
    if not start or not end or not (first.strip()):
        raise ApiError(400, f"Unable to parse range: {a1}")
    top, left = int(start[2] or 1), _column(start[1]) or 1
    bottom = int(end[2]) if end[2] else None
    right = _column(end[1]) or None
    return tab, top, left, bottom, right


def _column(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _a1(row: int, column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def _quoted(title: str) -> str:
    return title if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) else "'" + title.replace("'", "''") + "'"


def serial(value: datetime | date | clock_time) -> float:
    """Days since 1899-12-30, as the spreadsheet stores a date, time or date-time."""
    if isinstance(value, datetime):
        return (value.replace(tzinfo=None) - EPOCH) / timedelta(days=1)
    if isinstance(value, date):
        return float((value - EPOCH.date()).days)
    return (value.hour * 3600 + value.minute * 60 + value.second) / 86400


def _number(value: float) -> int | float:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _render(value: Any, value_option: str, date_option: str) -> Any:
    if value is None:
        return ""
    formatted = value_option == "FORMATTED_VALUE"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if formatted else value
    if isinstance(value, (datetime, date, clock_time)):
        if formatted or date_option == "FORMATTED_STRING":
            if isinstance(value, datetime):
                return f"{value:%Y-%m-%d} {value.hour}:{value:%M:%S}"
            return value.isoformat()
        return _number(serial(value))
    if isinstance(value, (int, float)):
        return str(_number(value)) if formatted else _number(value)
    return str(value)


def _stored(value: Any, option: str) -> Any:
    """What a cell holds after a write: RAW keeps strings as strings; ``""`` empties the cell."""
    if value == "":
        return None
    if option == "USER_ENTERED" and isinstance(value, str):
        text = value.strip()
        if text.startswith("'"):
            return value[1:]
        if text.upper() in ("TRUE", "FALSE"):
            return text.upper() == "TRUE"
        try:
            return _number(float(text)) if re.fullmatch(r"[-+]?\d+(\.\d*)?", text) else value
        except ValueError:
            return value
    return value


def _trim(values: list[Any], blank: Any) -> list[Any]:
    while values and values[-1] == blank:
        values.pop()
    return values


def _dropping_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """proto3 JSON: fields at their default (0, false) are left out."""
    return {k: v for k, v in obj.items() if v is not False and not (type(v) is int and v == 0)}


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_KEY_CACHE: list[Any] = []


def _throwaway_key():
    """One RSA key per test session: generating one takes longer than a test should."""
    if not _KEY_CACHE:
        _KEY_CACHE.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEY_CACHE[0]
