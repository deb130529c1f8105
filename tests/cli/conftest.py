"""Loopback HTTP/TLS targets and a closed port (tests.support.server_fixtures), for `koban probe`."""

from tests.support.server_fixtures import (  # noqa: F401  (fixtures)
    ca,
    ca_file,
    closed_port,
    http_server,
    server_context,
    tls_server,
)
