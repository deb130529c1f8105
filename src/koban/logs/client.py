"""One Elasticsearch/OpenSearch cluster over plain HTTP, through koban's outbound client.

Plain ``_search`` with JSON works the same on Elasticsearch 7-9 and OpenSearch 1-2, so no vendor
client is needed (elasticsearch-py refuses OpenSearch servers). Auth: none, basic, API key, or AWS
SigV4 for Amazon OpenSearch Service (``sigv4.py``, the koban[aws] extra).
"""

from __future__ import annotations

import base64
import json
import os
import ssl
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from koban.core import outbound
from koban.logs.sigv4 import AwsSigning, SigningError, sign


class LogQueryError(Exception):
    """The cluster is down or refused the query; the message says which, for the failed run."""


@dataclass(frozen=True, slots=True)
class ClusterConn:
    url: str
    auth_type: str = "none"  # none | basic | api_key
    username: str = ""
    password: str = ""
    api_key: str = ""
    timeout: float = 30.0
    aws: AwsSigning | None = None
    verify_tls: bool = True
    ca_file: str | None = None

    def tls(self) -> ssl.SSLContext | bool:
        """What the request verifies the cluster's certificate with (``core/outbound.request``'s ssl).
        Raises ``LogQueryError`` when the CA file cannot be read, which the run shows."""
        if not self.verify_tls:
            return False
        if not self.ca_file:
            return True
        try:
            return _context(self.ca_file, os.stat(self.ca_file).st_mtime_ns)
        except (OSError, ssl.SSLError) as exc:
            raise LogQueryError(f"cannot use ca_file {self.ca_file}: {exc}") from exc

    def headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.auth_type == "basic":
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            h["Authorization"] = f"Basic {token}"
        elif self.auth_type == "api_key":
            h["Authorization"] = f"ApiKey {self.api_key}"
        return h


@lru_cache(maxsize=16)
def _context(path: str, _mtime: int) -> ssl.SSLContext:
    # One context per file version: loading a CA file per query costs more than the query's TLS.
    return ssl.create_default_context(cafile=path)


def conn_of(cluster: Any) -> ClusterConn:
    """From a config ``LogCluster``."""
    a = cluster.auth
    aws = None
    if a.type == "aws_sigv4":
        aws = AwsSigning(a.region, a.service, a.access_key_id, a.secret_access_key, a.session_token)
    return ClusterConn(
        cluster.url, a.type, a.username, a.password, a.api_key, float(cluster.timeout), aws,
        cluster.verify_tls, cluster.ca_file,
    )  # fmt: skip


async def search(conn: ClusterConn, index: str, body: dict[str, Any]) -> dict[str, Any]:
    url = f"{conn.url}/{quote(index, safe='*,-_.')}/_search?ignore_unavailable=true&allow_no_indices=true"
    data = json.dumps(body).encode()
    headers = conn.headers()
    tls = conn.tls() if url.startswith("https://") else True
    if conn.aws is not None:
        try:
            headers = sign("POST", url, headers, data, conn.aws)
        except SigningError as exc:
            raise LogQueryError(str(exc)) from exc
    try:
        resp = await outbound.request("POST", url, headers=headers, body=data, timeout=conn.timeout, ssl=tls)
    except outbound.OutboundError as exc:
        raise LogQueryError(f"cluster unreachable: {exc}") from exc
    if resp.status != 200:
        raise LogQueryError(f"cluster answered HTTP {resp.status}: {_reason(resp.text)}")
    try:
        answer: dict[str, Any] = json.loads(resp.body)
    except ValueError as exc:
        raise LogQueryError("cluster answered with something that is not JSON") from exc
    if answer.get("timed_out") or answer.get("_shards", {}).get("failed"):
        raise LogQueryError(f"query incomplete: {json.dumps(answer.get('_shards'))[:300]}")
    return answer


def _reason(text: str) -> str:
    # {"error": {"root_cause": [...], "type": ..., "reason": ...}, "status": 400}
    try:
        err = json.loads(text).get("error")
    except (ValueError, AttributeError):
        return text[:300]
    if isinstance(err, dict):
        # "all shards failed" says nothing; the first root cause says what was wrong with the query.
        causes = err.get("root_cause") or [err]
        cause = causes[0] if isinstance(causes[0], dict) else err
        return f"{cause.get('type', '')}: {cause.get('reason', '')}"[:300]
    return str(err)[:300]
