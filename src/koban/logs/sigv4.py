"""AWS SigV4 for Amazon OpenSearch Service, through botocore (the optional ``koban[aws]`` extra).

botocore signs exactly as AWS's own clients do, and brings AWS's credential chain (environment,
shared profile, instance or container role, refreshed before they expire), which is what a koban
running on AWS needs. It is imported only when a cluster asks for ``aws_sigv4``, so a koban without
the extra runs every other cluster; one that asks without it gets a run error saying so.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SigningError(Exception):
    """The request cannot be signed: no botocore, or no credentials."""


@dataclass(frozen=True, slots=True)
class AwsSigning:
    region: str
    service: str = "es"  # "aoss" for OpenSearch Serverless
    access_key_id: str = ""
    secret_access_key: str = ""
    session_token: str = ""


@functools.cache
def _chain() -> Any:
    """AWS's credential chain, resolved once per process; refreshable credentials renew themselves."""
    from botocore.session import get_session

    return get_session().get_credentials()


def sign(method: str, url: str, headers: Mapping[str, str], body: bytes, aws: AwsSigning) -> dict[str, str]:
    """``headers`` plus ``Authorization``, ``X-Amz-Date`` (and ``X-Amz-Security-Token``) for this request."""
    try:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
    except ImportError as exc:
        raise SigningError("aws_sigv4 needs the koban[aws] extra (pip install 'koban[aws]')") from exc
    if aws.access_key_id:
        creds = Credentials(aws.access_key_id, aws.secret_access_key, aws.session_token or None)
    else:
        creds = _chain()
        if creds is None:
            raise SigningError("aws_sigv4: no AWS credentials (environment, profile or instance role)")
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    # The payload's hash is signed too (x-amz-content-sha256), as Amazon OpenSearch Service accepts.
    request.context["payload_signing_enabled"] = True
    SigV4Auth(creds, aws.service, aws.region).add_auth(request)
    return dict(request.headers.items())
