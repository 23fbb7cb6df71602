"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a free port.

The fixtures start one server per test and stop it afterwards:

- ``smtp_server``           plain SMTP, no TLS, no AUTH;
- ``smtp_auth_server``      plain SMTP with AUTH (``auth_require_tls=False``, loopback only);
- ``smtp_starttls_server``  STARTTLS required, AUTH offered only after it, with a
                            certificate for 127.0.0.1/localhost issued by a trustme CA;
- ``smtp_ssl_server``       implicit TLS (port-465 style) with the same certificate, and AUTH;
- ``smtp_ca``               the trustme CA (session-wide).

Each gives an :class:`SmtpServer`: ``.handler`` records every envelope and can
inject faults, ``.configure(workspace, ...)`` rewrites the workspace's config
to send through this server and returns the loaded settings.

The handler speaks like a real server where it matters: a ``421`` reply closes
the connection afterwards (RFC 5321 3.8: "closing transmission channel").
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Iterator

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, syntax

__all__ = [
    "SMTP_USER", "SMTP_PASSWORD", "SMTP_PASSWORD_ENV",
    "Received", "RecordingHandler", "SmtpServer", "write_smtp_config",
    "smtp_ca", "smtp_server", "smtp_auth_server", "smtp_starttls_server", "smtp_ssl_server", "toml_text",
]

SMTP_HOST = "127.0.0.1"
SMTP_USER = "office@court.example"
SMTP_PASSWORD = "s3cret-Pa55word-2026"
SMTP_PASSWORD_ENV = "PIPELINE_TEST_SMTP_PASSWORD"


@dataclass
class Received:
    """One message the server accepted (or, in ``data_seen``, at least read)."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: str | None          # the username the session authenticated as, if any
    tls: bool                  # whether the message travelled over TLS
    connection: int            # which connection (1, 2, …) carried it

    def parse(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.content)


@dataclass
class RecordingHandler:
    """Records what arrives; the fault fields make the next replies fail.

    - ``rcpt_replies[address] = "451 4.3.0 …"``: reply this to RCPT TO for that address
      (a ``421`` reply also closes the connection, as a real server does);
    - ``data_reply = "550 5.7.1 …"``: reply this at the end of DATA instead of 250;
    - ``drop_at_mail = n``: close the connection instead of answering the next n MAIL FROM;
    - ``drop_in_data = n``: close the connection after reading the next n messages,
      before replying to them (the client cannot know whether they arrived);
    - ``on_data(received)``: called with each message as soon as it is read, before the reply.
    """

    messages: list[Received] = field(default_factory=list)      # accepted (250 after DATA)
    data_seen: list[Received] = field(default_factory=list)     # every message read, accepted or not
    rcpt_attempts: list[str] = field(default_factory=list)      # every RCPT TO address, accepted or not
    auth_attempts: list[str] = field(default_factory=list)      # every AUTH command (its mechanism)
    logins: list[str] = field(default_factory=list)             # successful logins (usernames)
    connections: int = 0                                        # client sessions that said EHLO
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    drop_at_mail: int = 0
    drop_in_data: int = 0
    on_data: Callable[[Received], object] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def recipients(self) -> list[str]:
        """Every envelope recipient of every accepted message, in order."""
        return [r for m in self.messages for r in m.rcpt_tos]

    # -- connection bookkeeping --------------------------------------------

    def _connection(self, session: Any) -> int:
        number = getattr(session, "test_connection", None)
        if number is None:
            with self.lock:
                self.connections += 1
                number = self.connections
            session.test_connection = number
        return number

    @staticmethod
    def _login(session: Any) -> str | None:
        data = getattr(session, "auth_data", None)
        if isinstance(data, LoginPassword):
            return data.login.decode("utf-8", "replace")
        return None

    @staticmethod
    def _tls(server: SMTP) -> bool:
        transport = server.transport
        return transport is not None and transport.get_extra_info("ssl_object") is not None

    @staticmethod
    def _drop(server: SMTP) -> None:
        if server.transport is not None:
            server.transport.close()

    # -- aiosmtpd hooks ----------------------------------------------------

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self._connection(session)
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.drop_at_mail > 0:
            self.drop_at_mail -= 1
            self._drop(server)
            return "421 4.4.2 dropped by the test"      # never reaches the client
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts.append(address)
        reply = self.rcpt_replies.get(address) or self.rcpt_replies.get(address.lower())
        if reply:
            if reply.startswith("421"):
                await server.push(reply)
                self._drop(server)
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    def _received(self, server, session, envelope) -> Received:
        """Record the message the server just read (accepted or not)."""
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), content, self._login(session),
                            self._tls(server), self._connection(session))
        self.data_seen.append(received)
        if self.on_data is not None:
            self.on_data(received)
        return received

    async def handle_DATA(self, server, session, envelope):
        received = self._received(server, session, envelope)
        if self.drop_in_data > 0:
            self.drop_in_data -= 1
            self._drop(server)
            return "451 4.4.2 dropped by the test"      # never reaches the client
        if self.data_reply:
            return self.data_reply
        self.messages.append(received)
        return "250 2.0.0 Message accepted for delivery"


class _RecordingSMTP(SMTP):
    """aiosmtpd's SMTP that also notes every AUTH command, successful or not."""

    @syntax("AUTH <mechanism>")
    async def smtp_AUTH(self, arg: str) -> None:
        self.event_handler.auth_attempts.append(arg.split()[0].upper() if arg else "")
        await super().smtp_AUTH(arg)


class _Authenticator:
    """Accepts exactly one user and password; remembers who logged in."""

    def __init__(self, handler: RecordingHandler, username: str, password: str) -> None:
        self.handler, self.username, self.password = handler, username, password

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if (isinstance(auth_data, LoginPassword)
                and auth_data.login == self.username.encode("utf-8")
                and auth_data.password == self.password.encode("utf-8")):
            self.handler.logins.append(self.username)
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)


class _Controller(Controller):
    """Binds port 0 (the OS picks a free port, no race) and uses :class:`_RecordingSMTP`."""

    def factory(self):
        return _RecordingSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self):
        async def create():
            server = await self.loop.create_server(self._factory_invoker, host=self.hostname, port=0,
                                                   ssl=self.ssl_context)
            self.port = server.sockets[0].getsockname()[1]
            return server
        return create()


@dataclass
class SmtpServer:
    host: str
    port: int
    security: str                    # "none" | "starttls" | "ssl"
    handler: RecordingHandler
    username: str | None = None      # the one user the server accepts (None: no AUTH)
    password_env: str = SMTP_PASSWORD_ENV
    ca_pem: bytes | None = None      # the CA that issued the server's certificate

    def write_ca(self, folder: Path) -> Path:
        path = Path(folder) / "smtp-test-ca.pem"
        assert self.ca_pem is not None, "this server has no TLS"
        path.write_bytes(self.ca_pem)
        return path

    def configure(self, workspace: Any, *, ca_file: bool | Path = True, username: str | None | bool = True,
                  **options: Any):
        """Point ``workspace``'s config at this server; returns the loaded settings.

        ``ca_file=False`` leaves the CA out (the certificate is then untrusted);
        ``username=True`` uses the server's user (None/False: no login);
        other keyword arguments go to :func:`write_smtp_config`.
        """
        if ca_file is True:
            ca_path = self.write_ca(workspace.root) if self.ca_pem else None
        else:
            ca_path = ca_file or None
        user = self.username if username is True else (username or None)
        write_smtp_config(workspace.config_path, host=self.host, port=self.port, security=self.security,
                          username=user, password_env=self.password_env if user else None,
                          ca_file=ca_path, **options)
        return workspace.settings


def write_smtp_config(config_path: Path, *, host: str, port: int, security: str, username: str | None = None,
                      password_env: str | None = None, ca_file: Path | None = None, timeout: float = 5.0,
                      max_attempts: int | None = None, sender: str | None = None) -> None:
    """Rewrite the config at ``config_path`` with ``[mail] transport = "smtp"`` and this ``[mail.smtp]``."""
    path = Path(config_path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    mail = data.setdefault("mail", {})
    mail["transport"] = "smtp"
    if max_attempts is not None:
        mail["max_attempts"] = max_attempts
    if sender is not None:
        mail["sender"] = sender
    smtp: dict[str, Any] = {"host": host, "port": port, "security": security, "timeout": float(timeout)}
    if username is not None:
        smtp["username"] = username
    if password_env is not None:
        smtp["password_env"] = password_env
    if ca_file is not None:
        smtp["ca_file"] = Path(ca_file).resolve().as_posix()
    mail["smtp"] = smtp
    path.write_text(toml_text(data), encoding="utf-8")


def toml_text(table: dict[str, Any], prefix: tuple[str, ...] = ()) -> str:
    """A minimal TOML writer: enough for the pipeline's config (scalars, string lists, tables)."""
    lines, subtables = [], []
    for key, value in table.items():
        if isinstance(value, dict):
            subtables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    text = "".join(line + "\n" for line in lines)
    for key, value in subtables:
        name = ".".join(_toml_key(k) for k in (*prefix, key))
        text += f"\n[{name}]\n" + toml_text(value, (*prefix, key))
    return text


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


# --- fixtures -----------------------------------------------------------------

@pytest.fixture(scope="session")
def smtp_ca() -> trustme.CA:
    return trustme.CA()


def _server_tls_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def _run(monkeypatch: pytest.MonkeyPatch, *, security: str = "none", auth: bool = False,
         ca: trustme.CA | None = None) -> Iterator[SmtpServer]:
    handler = RecordingHandler()
    kwargs: dict[str, Any] = {"server_hostname": "mail.test", "ready_timeout": 5.0}
    if auth:
        kwargs["authenticator"] = _Authenticator(handler, SMTP_USER, SMTP_PASSWORD)
        # aiosmtpd only counts STARTTLS as TLS; implicit TLS and the loopback case need this.
        kwargs["auth_require_tls"] = security == "starttls"
        monkeypatch.setenv(SMTP_PASSWORD_ENV, SMTP_PASSWORD)
    if security == "starttls":
        assert ca is not None
        kwargs.update(tls_context=_server_tls_context(ca), require_starttls=True)
    elif security == "ssl":
        assert ca is not None
        kwargs["ssl_context"] = _server_tls_context(ca)
    controller = _Controller(handler, hostname=SMTP_HOST, **kwargs)
    controller.start()
    try:
        yield SmtpServer(SMTP_HOST, controller.port, security, handler,
                         username=SMTP_USER if auth else None,
                         ca_pem=ca.cert_pem.bytes() if ca is not None else None)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """Plain SMTP on 127.0.0.1, no TLS, no AUTH."""
    yield from _run(monkeypatch)


@pytest.fixture
def smtp_auth_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """Plain SMTP on 127.0.0.1 with AUTH allowed without TLS (loopback)."""
    yield from _run(monkeypatch, auth=True)


@pytest.fixture
def smtp_starttls_server(monkeypatch: pytest.MonkeyPatch, smtp_ca: trustme.CA) -> Iterator[SmtpServer]:
    """STARTTLS required; AUTH offered only once TLS is up."""
    yield from _run(monkeypatch, security="starttls", auth=True, ca=smtp_ca)


@pytest.fixture
def smtp_ssl_server(monkeypatch: pytest.MonkeyPatch, smtp_ca: trustme.CA) -> Iterator[SmtpServer]:
    """Implicit TLS from the first byte, with AUTH."""
    yield from _run(monkeypatch, security="ssl", auth=True, ca=smtp_ca)


# --- pausing the server mid-conversation (crash tests) -------------------------

@dataclass
class PausingHandler(RecordingHandler):
    """A :class:`RecordingHandler` that can hold one reply until the test lets it go.

    - ``pause_at_data = n``: read the n-th message from now (1: the next one) in
      full, then wait before replying to it. The server has the whole message, so
      it counts as accepted (it lands in ``messages``) even if the client is gone
      by the time the pause ends;
    - ``pause_at_rcpt = n``: wait before answering the n-th RCPT TO from now.

    ``paused`` is set when the pause begins (``paused_on`` names the recipients
    it holds); set ``release`` to let it go on; ``resumed`` is set once the held
    reply has gone on or the connection has died under it. A pause never lasts
    longer than ``pause_limit`` seconds, so a forgotten release cannot hang the suite.
    """

    pause_at_data: int = 0
    pause_at_rcpt: int = 0
    pause_limit: float = 30.0
    paused: threading.Event = field(default_factory=threading.Event, repr=False)
    release: threading.Event = field(default_factory=threading.Event, repr=False)
    resumed: threading.Event = field(default_factory=threading.Event, repr=False)
    paused_on: list[str] = field(default_factory=list)

    async def _hold(self) -> None:
        import asyncio

        self.paused.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.pause_limit
        try:
            while not self.release.is_set() and loop.time() < deadline:
                await asyncio.sleep(0.01)
        finally:
            self.resumed.set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.pause_at_rcpt > 0:
            self.pause_at_rcpt -= 1
            if self.pause_at_rcpt == 0:
                self.paused_on.append(address)
                await self._hold()
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        if self.pause_at_data > 0:
            self.pause_at_data -= 1
            if self.pause_at_data == 0:
                received = self._received(server, session, envelope)
                self.paused_on.extend(received.rcpt_tos)
                try:
                    await self._hold()
                finally:
                    # The server finished reading it before the pause: it counts as delivered.
                    self.messages.append(received)
                return "250 2.0.0 Message accepted for delivery"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_pausing_server() -> Iterator[SmtpServer]:
    """Plain SMTP on 127.0.0.1 (no TLS, no AUTH) whose handler is a :class:`PausingHandler`."""
    handler = PausingHandler()
    controller = _Controller(handler, hostname=SMTP_HOST, server_hostname="mail.test", ready_timeout=5.0)
    controller.start()
    try:
        yield SmtpServer(SMTP_HOST, controller.port, "none", handler)
    finally:
        handler.release.set()
        controller.stop()


__all__ += ["PausingHandler", "smtp_pausing_server"]
