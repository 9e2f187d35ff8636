"""Pages by email, over SMTP with the standard library (`smtplib`, `email.message`).

One connection per attempt: pages are rare, and a connection kept open between them would
only time out. TLS is `starttls` (upgrade a plain connection, port 587), `tls` (implicit TLS,
port 465) or `none` (port 25, a relay on a trusted network); certificates are verified
against the system's authorities unless an `ssl_context` says otherwise. A 4yz reply, a
dropped connection or a timeout may succeed later; a 5yz reply (an unknown recipient, a
refused login) and a TLS failure will not.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from srekit import __version__
from srekit.core.notify import (
    Attempt,
    ContactMethod,
    Message,
    Page,
    dedup_key,
    render_email,
    render_notice_email,
    smtp_reply_retryable,
)

__all__ = ["SmtpTransport", "TlsMode"]

TlsMode = Literal["none", "starttls", "tls"]
_DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}


class SmtpTransport:
    """Sends pages and notices as plain-text mail from `from_address` through one SMTP
    server."""

    def __init__(
        self,
        *,
        host: str,
        from_address: str,
        port: int | None = None,
        tls: TlsMode = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port if port is not None else _DEFAULT_PORTS[tls]
        self.tls = tls
        self.from_address = from_address
        self.username = username
        self.password = password
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context

    def message(self, sent: Message, contact: ContactMethod) -> EmailMessage:
        """The mail of a page or a notice to `contact`'s address."""
        text = render_email(sent) if isinstance(sent, Page) else render_notice_email(sent)
        message = EmailMessage()
        message["Subject"] = text.subject
        message["From"] = self.from_address
        message["To"] = contact.target.strip()
        message["Date"] = format_datetime(sent.at)
        domain = self.from_address.rpartition("@")[2] or "srekit.invalid"
        if isinstance(sent, Page):
            message["Message-ID"] = make_msgid(dedup_key(sent.incident_id), domain=domain)
            message["X-Srekit-Incident"] = str(sent.incident_id)
        else:
            message["Message-ID"] = make_msgid(f"srekit-{sent.kind}", domain=domain)
            message["X-Srekit-Notice"] = sent.kind
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
        message["X-Mailer"] = f"srekit/{__version__}"
        message.set_content(text.body)
        return message

    def attempt(self, sent: Message, contact: ContactMethod) -> Attempt:
        where = f"smtp {self.host}:{self.port}"
        try:
            message = self.message(sent, contact)
        except (ValueError, TypeError) as error:  # an address the headers cannot hold
            return Attempt(False, f"{where}: cannot address mail to it: {error}")
        try:
            self._send(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            replies = "; ".join(_reply(code, text) for code, text in error.recipients.values())
            retryable = bool(codes) and all(smtp_reply_retryable(code) for code in codes)
            return Attempt(False, f"{where}: recipient refused: {replies}", retryable)
        except smtplib.SMTPResponseException as error:
            reply = _reply(error.smtp_code, error.smtp_error)
            return Attempt(False, f"{where}: {reply}", smtp_reply_retryable(error.smtp_code))
        except smtplib.SMTPNotSupportedError as error:
            return Attempt(False, f"{where}: {error} (SREKIT_SMTP_TLS?)")
        except ssl.SSLError as error:
            return Attempt(False, f"{where}: TLS failed: {error.reason or error}")
        except (smtplib.SMTPException, OSError) as error:
            # a refused or dropped connection, a timeout: the server may be back soon
            detail = str(error) or type(error).__name__
            return Attempt(False, f"{where}: {detail}", True)
        return Attempt(True, f"{where}: accepted for {contact.target.strip()}")

    def _send(self, message: EmailMessage) -> None:
        context = self.ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with smtp:
            if self.tls == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)

    def close(self) -> None:
        """Nothing to release: each attempt opens and closes its own connection."""


def _reply(code: int, text: bytes | str) -> str:
    shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(shown.split())}"[:300]
