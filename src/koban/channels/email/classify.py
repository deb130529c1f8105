"""Pure classification of SMTP failures.

``phase`` is ``connect`` (connect, TLS, login: nothing was handed over) or ``send`` (MAIL/RCPT/DATA:
a lost connection here may have delivered the message).
"""

from __future__ import annotations

import smtplib
import ssl

from koban.channels.base import DeliveryResult


def _by_code(code: int, text: str) -> DeliveryResult:
    if 500 <= code < 600:
        return DeliveryResult.permanent(text)
    return DeliveryResult.transient(text)


def _decode(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def classify_smtp_error(exc: BaseException, phase: str) -> DeliveryResult:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryResult.permanent(
            f"smtp authentication failed: {exc.smtp_code} {_decode(exc.smtp_error)}"
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        address, (code, message) = next(iter(exc.recipients.items()))
        return _by_code(code, f"smtp refused recipient {address}: {code} {_decode(message)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, f"smtp error: {exc.smtp_code} {_decode(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryResult.permanent(f"smtp server does not support it: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryResult.permanent(f"smtp server certificate rejected: {exc.verify_message}")
    if phase == "send" and isinstance(exc, OSError | smtplib.SMTPServerDisconnected):
        return DeliveryResult.in_doubt(f"smtp connection lost while sending: {exc}")
    return DeliveryResult.transient(f"smtp: {type(exc).__name__}: {exc}")
