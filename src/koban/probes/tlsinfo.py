"""TLS client contexts and certificate facts for probes.

Contexts are cached because building one loads the system CA store (milliseconds): far more than a
loopback probe costs. Certificates are parsed with ``cryptography`` and cached by their DER bytes, since a
monitor sees the same chain probe after probe.
"""

from __future__ import annotations

import _ssl  # the C module behind ssl: ENCODING_DER, which ssl does not re-export
import functools
import ssl
from datetime import datetime

from cryptography import x509

from koban.probes.result import CertInfo


@functools.lru_cache(maxsize=32)
def client_context(verify: bool = True, ca_file: str | None = None) -> ssl.SSLContext:
    """A client context per (verify, CA bundle); session tickets are not reused since each probe is fresh."""
    if verify:
        ctx = ssl.create_default_context(cafile=ca_file)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


@functools.lru_cache(maxsize=4096)
def _parse(der: bytes) -> tuple[datetime, str, str]:
    cert = x509.load_der_x509_certificate(der)
    return cert.not_valid_after_utc, cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()


def presented_chain(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> list[bytes]:
    """DER of every certificate the peer sent, leaf first.

    Python 3.13 has public ``get_unverified_chain``; 3.10-3.12 expose the same method on the private
    ``_sslobj``. Without either we fall back to the leaf alone (expiry still correct for the leaf).
    """
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        inner = getattr(ssl_object, "_sslobj", None)
        getter = getattr(inner, "get_unverified_chain", None)
    if getter is not None:
        try:
            chain = getter() or []
            ders = [c if isinstance(c, bytes) else c.public_bytes(_ssl.ENCODING_DER) for c in chain]
            if ders:
                return ders
        except (ssl.SSLError, ValueError, AttributeError):
            pass
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def cert_info(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> CertInfo | None:
    if ssl_object is None:
        return None
    ders = presented_chain(ssl_object)
    if not ders:
        return None
    parsed = [_parse(d) for d in ders]
    leaf_expiry, subject, issuer = parsed[0]
    return CertInfo(
        leaf_expiry=leaf_expiry,
        earliest_expiry=min(p[0] for p in parsed),
        subject=subject,
        issuer=issuer,
        chain_length=len(ders),
        tls_version=ssl_object.version() or "",
    )
