"""Tables for logins, teams, API tokens, browser sessions and the audit trail.

A login belongs to a person of the config (``person_id``); a person without a row here pages and
is paged but cannot sign in. Secrets are kept only as digests: Argon2id for passwords, SHA-256 for
API tokens and session ids (both are random and long, so a plain digest suffices). The audit
trail is append-only through every door koban offers: nothing updates or deletes its rows.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, Index, Integer, String, Table, Text

from koban.db.schema_base import Id, config_table, metadata

# Teams come from the config (``teams:``); ``memberships`` mirrors their members on every apply.
teams = config_table("teams")

users = Table(
    "users",
    metadata,
    Column("person_id", Id, primary_key=True),
    Column("password_hash", Text, nullable=True),  # None: single sign-on only
    Column("global_role", String(16), nullable=True),  # viewer | responder | manager | admin
    # The global role the provider's groups gave at the last sign-on (``sso.group_mapping``), kept
    # apart from ``global_role`` so a sign-on never lowers a role given by ``koban user create``.
    Column("sso_role", String(16), nullable=True),
    Column("oidc_issuer", Text, nullable=True),
    Column("oidc_subject", Text, nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("uq_users_oidc", "oidc_issuer", "oidc_subject", unique=True),
)

memberships = Table(
    "memberships",
    metadata,
    Column("team_id", Id, primary_key=True),
    Column("person_id", Id, primary_key=True),
    Column("role", String(16), nullable=False),
    # config: the file's ``teams:`` (apply owns it); sso: the provider's groups (each sign-on owns it)
    Column("source", String(8), nullable=False, default="config", server_default="config"),
)

# The config's ``sso:`` section: one row, id "oidc" (the client secret sealed, or a ${NAME} reference).
sso = config_table("sso")

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("shown", String(16), nullable=False),
    Column("person_id", Id, nullable=False),  # the owner; a service token belongs to its creator
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # personal | service
    Column("scope", String(16), nullable=False),
    Column("team_id", Id, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("last_used_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("digest", String(64), primary_key=True),  # sha256 of the cookie's opaque id
    Column("person_id", Id, nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),  # absolute expiry; idle expiry counts from last_seen_at
    Column("ip", String(64), nullable=False, default=""),
    Column("user_agent", Text, nullable=False, default=""),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(160), primary_key=True),  # "account:<person>" or "address:<ip>"
    Column("failures", Integer, nullable=False),
    Column("last_at", Float, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", Id, nullable=True),  # a person; None for anonymous (a failed login)
    Column("via", String(16), nullable=False),  # api | ui | cli | config | slack | keypad | sms | link
    Column("action", String(64), nullable=False),  # e.g. policy.update, incident.acknowledge, login.failed
    Column("object_kind", String(32), nullable=False, default=""),
    Column("object_id", Id, nullable=False, default=""),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("ip", String(64), nullable=False, default=""),
    Column("user_agent", Text, nullable=False, default=""),
    Column("token_id", Integer, nullable=True),
    Index("ix_audit_events_object", "object_kind", "object_id"),
    # The trail is read newest first by (at, id), paged by keyset: with or without a person or a
    # kind, a page reads one index range in order and stops, however long the table is.
    Index("ix_audit_events_at_id", "at", "id"),
    Index("ix_audit_events_actor_at", "actor", "at", "id"),
    Index("ix_audit_events_kind_at", "object_kind", "at", "id"),
)
