"""The SMTP transport (``[mail] transport = "smtp"``): one connection per batch, TLS verified as configured,
each recipient's reply classified (mail/delivery.py's outcomes). ``open_transport`` imports it when the config
sends by SMTP, so that the outbox and the commands that send nothing load neither smtplib nor ssl.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..core.config import Settings, is_loopback
from ..core.errors import ConfigError
from .delivery import PERMANENT, SENT, TEMPORARY, UNKNOWN, Result, TransportError

log = logging.getLogger(__name__)


class SmtpTransport:
    """One connection per batch, reused, reopened once if the server drops it."""

    def __init__(self, settings: Settings) -> None:
        self.config = settings.mail.smtp
        self.where = f"{self.config.host}:{self.config.port}"

    delivers = True

    def describe(self) -> str:
        return f"SMTP {self.where} ({self.config.security})"

    def ready(self) -> None:
        if self.config.username and os.environ.get(self.config.password_env) is None:
            raise ConfigError(f"{self.where}: {missing_password(self.config.password_env)}")

    @contextmanager
    def session(self) -> Iterator[_SmtpSession]:
        session = _SmtpSession(self)
        try:
            yield session
        finally:
            session.close()

    def password(self) -> str | None:
        if not self.config.username:
            return None
        value = os.environ.get(self.config.password_env)
        if value is None:
            raise TransportError(f"{self.where}: {missing_password(self.config.password_env)}")
        return value

    def tls_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=str(self.config.ca_file) if self.config.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise TransportError(f"{self.where}: 无法读取 [mail.smtp] ca_file {self.config.ca_file}：{exc}") from None

    def connect(self) -> smtplib.SMTP:
        """A ready connection: TLS verified as configured, logged in when a username is set."""
        config, timeout = self.config, self.config.timeout
        password = self.password()
        if password is not None and config.security == "none" and not is_loopback(config.host):
            raise TransportError(f"{self.where}: 不在未加密的连接上把密码发给其他主机（[mail.smtp] security）")
        try:
            if config.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout,
                                                      context=self.tls_context())
            else:
                conn = smtplib.SMTP(config.host, config.port, timeout=timeout)
            conn.ehlo()
            if config.security == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise TransportError(f"{self.where}: 邮件服务器不支持 STARTTLS；请改用 security = \"ssl\"，或询问邮件管理员")
                conn.starttls(context=self.tls_context())
                conn.ehlo()
        except ssl.SSLCertVerificationError as exc:
            raise TransportError(
                f"{self.where}: 无法验证邮件服务器的证书（{exc.verify_message}）；"
                "单位内部签发的证书请在 [mail.smtp] ca_file 中指定"
            ) from None
        except ssl.SSLError as exc:
            raise TransportError(f"{self.where}: 加密连接失败（{exc}）") from None
        if password is not None:
            try:
                conn.login(config.username, password)
            except smtplib.SMTPAuthenticationError as exc:
                conn.close()
                raise TransportError(f"{self.where}: 邮件服务器拒绝登录（{exc.smtp_code} {_text(exc.smtp_error)}）：请核对 "
                                     f"[mail.smtp] username 和密码") from None
            except smtplib.SMTPNotSupportedError:
                conn.close()
                raise TransportError(f"{self.where}: 邮件服务器不支持登录（AUTH）；请询问邮件管理员") from None
            except UnicodeEncodeError:
                conn.close()
                raise TransportError(f"{self.where}: 环境变量 {config.password_env} 中的 SMTP 密码只能由英文字母、数字和"
                                     "符号组成（登录命令传不了其他字符）") from None
        return conn


def missing_password(variable: str) -> str:
    """What to do when the SMTP password's environment variable is not set, on either system."""
    return (f"未设置 SMTP 密码：请在运行本程序的账户中设置环境变量 {variable}"
            f"（Linux 服务写在 EnvironmentFile 中；Windows 运行 setx {variable} 密码 后重新打开窗口；见使用指南第六节）")


def _why(exc: BaseException) -> str:
    """A network failure in words: the common ones named, the rest as the system says them."""
    if isinstance(exc, socket.gaierror):
        return "找不到该主机，请检查 [mail.smtp] host"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝：服务器未运行，或端口不对"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "等待服务器应答超时"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "服务器断开了连接"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "连接被对方重置"
    return f"{type(exc).__name__}: {exc}"


class _HandoverFailed(Exception):
    """Carries the caller's handover error past the transport's own error handling."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _SmtpSession:
    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.conn: smtplib.SMTP | None = None
        self.broken: str | None = None   # a connection failure: the rest of the batch waits for next time

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def deliver(self, sender: str, recipient: str, data: bytes, name: str,
                handover: Callable[[], object] | None = None,
                meanwhile: Callable[[], object] | None = None, built: object = None) -> Result:
        try:
            return self._deliver(sender, recipient, data, handover, meanwhile)
        except _HandoverFailed as failed:
            raise failed.error from None    # the caller's own error, not a transport's

    def _deliver(self, sender: str, recipient: str, data: bytes, handover: Callable[[], object] | None,
                 meanwhile: Callable[[], object] | None) -> Result:
        if self.broken:
            return Result(recipient, TEMPORARY, self.broken)
        handed = handover is None
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = self.transport.connect()
                conn = self.conn
                conn.putcmd("mail", f"FROM:<{sender}>")
                if not handed:
                    # While the server answers MAIL: the caller's record, made before any text can go out.
                    handed = True
                    self._handover(conn, handover)
                code, reply = conn.getreply()
                if code != 250:
                    return self._refused(recipient, code, reply)
                code, reply = conn.rcpt(recipient)
                if code not in (250, 251):
                    return self._refused(recipient, code, reply)
            except (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout) as exc:
                # Nothing of the message was handed over yet: reconnect once and retry.
                self._drop()
                if attempt == 1:
                    log.info("%s: 发送前连接中断（%s），重新连接", self.transport.where, _why(exc))
                    continue
                self.broken = f"{self.transport.where}: 连接中断（{_why(exc)}）"
                return Result(recipient, TEMPORARY, self.broken)
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                self.broken = f"{self.transport.where}: 无法连接（{_why(exc)}）"
                return Result(recipient, TEMPORARY, self.broken)
            try:
                code, reply = conn.docmd("data")
                if code != 354:
                    # Refused at the DATA command itself: nothing was handed over.
                    return self._refused(recipient, code, reply)
                # smtplib's own DATA, split so the caller works while the server reads (RFC 5321 4.5.2).
                conn.send(_dot_stuffed(data))
                if meanwhile is not None:
                    meanwhile()
                code, reply = conn.getreply()
            except (smtplib.SMTPException, OSError) as exc:
                # The message may have been accepted before the connection broke.
                self._drop()
                return Result(recipient, UNKNOWN, f"{self.transport.where}: 发送正文时连接中断（{_why(exc)}），"
                                                  "服务器可能已收下")
            if code != 250:
                # The final reply after the message text refused it.
                return self._refused(recipient, code, reply)
            return Result(recipient, SENT, f"{code} {_text(reply)}")
        raise AssertionError("unreachable")

    def _handover(self, conn: smtplib.SMTP, handover: Callable[[], object]) -> None:
        """Run the caller's handover; if it fails, take back the MAIL command and let the error through."""
        try:
            handover()
        except Exception as exc:
            try:
                conn.getreply()
                conn.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
            raise _HandoverFailed(exc) from exc

    def _refused(self, recipient: str, code: int, reply: bytes | str) -> Result:
        """Record a refusal and leave the connection ready for the next recipient.

        421 means the server is closing the connection (RFC 5321 3.8): drop it
        and let the next recipient open a fresh one.
        """
        if code == 421:
            self._drop()
        elif self.conn is not None:
            try:
                self.conn.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
        return _classified(recipient, code, reply)


def _dot_stuffed(data: bytes) -> bytes:
    """The message text as DATA carries it: leading dots doubled, CRLF.CRLF at the end (RFC 5321 4.5.2)."""
    # Exactly smtplib's ``re.sub(rb"(?m)^\.", b"..", data)``, at memchr speed: a line starts at a LF.
    data = (b"." if data.startswith(b".") else b"") + data.replace(b"\n.", b"\n..")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _classified(recipient: str, code: int, reply: bytes | str) -> Result:
    """RFC 5321 4.2.1: 4yz is transient, 5yz permanent."""
    outcome = TEMPORARY if 400 <= code < 500 else PERMANENT
    return Result(recipient, outcome, f"{code} {_text(reply)}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
