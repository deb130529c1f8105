"""Pure classification of a webhook receiver's answer into a DeliveryResult."""

from __future__ import annotations

from koban.channels.base import DeliveryResult
from koban.core.outbound import OutboundError, OutboundResponse


def classify_response(resp: OutboundResponse) -> DeliveryResult:
    if 200 <= resp.status < 300:
        return DeliveryResult.sent()
    snippet = resp.text[:200].strip()
    error = f"HTTP {resp.status}" + (f": {snippet}" if snippet else "")
    # 408 and 429 are the receiver asking us to come back; 5xx is its own trouble.
    if resp.status in (408, 429) or resp.status >= 500:
        return DeliveryResult.transient(error, retry_after=resp.retry_after())
    # Redirects beyond the limit and other 4xx will not fix themselves.
    return DeliveryResult.permanent(error)


def classify_error(exc: OutboundError) -> DeliveryResult:
    if exc.sent:
        # The receiver may have acted on it; reconcile resends with the same Idempotency-Key.
        return DeliveryResult.in_doubt(str(exc))
    return DeliveryResult.transient(str(exc))
