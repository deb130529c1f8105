"""compact probe history: series ids, integer raw results, binary rollups, no pruning indexes

Issue 18: at 100,000 monitors every 60 s the old rows took ~1.2 KB per probe. Existing history is
converted: every (monitor, location) gets a ``probe_series`` id; raw results become integers (ms,
us, flags; their failures marked ``KEEP``); rollup histograms go from JSON to
``koban.probes.rollup_codec`` bytes (quantiles are recomputed on read, so nothing is lost).

Revision ID: 0017
Revises: 0016
"""

import json

import sqlalchemy as sa
from alembic import op

from koban.probes import rollup_codec
from koban.probes.rollup import RESOLUTIONS, Histogram

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = sa.String(length=128)
LOCATION = sa.String(length=64)
BATCH = 5000


def _create_new() -> None:
    op.create_table(
        "probe_series",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("location", LOCATION, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_series")),
        sa.UniqueConstraint("monitor_id", "location", name=op.f("uq_probe_series_monitor_id_location")),
    )
    op.create_table(
        "probe_results",
        sa.Column("series_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("started_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("attempt", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("flags", sa.SmallInteger(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("duration_us", sa.Integer(), nullable=False),
        sa.Column("resolve_us", sa.Integer(), nullable=False),
        sa.Column("connect_us", sa.Integer(), nullable=False),
        sa.Column("tls_us", sa.Integer(), nullable=False),
        sa.Column("processing_us", sa.Integer(), nullable=False),
        sa.Column("transfer_us", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cert_expiry", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("series_id", "started_ms", "attempt", name=op.f("pk_probe_results")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "probe_rollups",
        sa.Column("series_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("width", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "width", "start", name=op.f("pk_probe_rollups")),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    op.drop_index("ix_probe_results_monitor_id_started_at", table_name="probe_results")
    op.drop_index("ix_probe_results_started_at", table_name="probe_results")
    op.drop_index("ix_probe_rollups_resolution_start", table_name="probe_rollups")
    op.rename_table("probe_results", "probe_results_old")
    op.rename_table("probe_rollups", "probe_rollups_old")
    if pg:  # constraint names are schema-wide there; free them for the new tables
        op.execute("ALTER TABLE probe_results_old RENAME CONSTRAINT pk_probe_results TO pk_probe_results_old")
        op.execute("ALTER TABLE probe_rollups_old RENAME CONSTRAINT pk_probe_rollups TO pk_probe_rollups_old")
    _create_new()
    op.execute(
        "INSERT INTO probe_series (monitor_id, location) SELECT monitor_id, location FROM probe_results_old"
        " UNION SELECT monitor_id, location FROM probe_rollups_old"
    )
    integer = "BIGINT" if pg else "INTEGER"
    us = lambda col: f"CAST(ROUND({col} * 1000000) AS {integer})"  # noqa: E731
    op.execute(
        "INSERT INTO probe_results (series_id, started_ms, attempt, flags, status_code, duration_us,"
        " resolve_us, connect_us, tls_us, processing_us, transfer_us, error, cert_expiry)"
        f" SELECT s.id, CAST(ROUND(o.started_at * 1000) AS {integer}), o.attempt,"
        " (CASE WHEN o.success THEN 1 ELSE 4 END) + (CASE WHEN o.final THEN 2 ELSE 0 END),"
        f" o.status_code, {us('o.duration')}, {us('o.resolve')}, {us('o.connect')}, {us('o.tls')},"
        f" {us('o.processing')}, {us('o.transfer')}, NULLIF(o.error, ''),"
        f" CAST(ROUND(o.cert_expiry) AS {integer})"
        " FROM probe_results_old o JOIN probe_series s ON s.monitor_id = o.monitor_id"
        " AND s.location = o.location ON CONFLICT DO NOTHING"
    )
    _convert_rollups(bind)
    op.drop_table("probe_results_old")
    op.drop_table("probe_rollups_old")


def _convert_rollups(bind: sa.Connection) -> None:
    series = {
        (r[1], r[2]): r[0] for r in bind.exec_driver_sql("SELECT id, monitor_id, location FROM probe_series")
    }
    new = sa.table(
        "probe_rollups",
        *(sa.column(c) for c in ("series_id", "width", "start", "count", "failures")),
        sa.column("metrics", sa.LargeBinary()),
    )
    # Options on this statement only: ``Connection.execution_options`` would change the migration's
    # connection, and PostgreSQL cannot run its later DDL through a server-side cursor.
    rows = bind.exec_driver_sql(
        "SELECT monitor_id, location, resolution, start, count, failures, metrics FROM probe_rollups_old",
        execution_options={"stream_results": True, "yield_per": BATCH},
    )
    batch = []
    for monitor_id, location, resolution, start, count, failures, metrics in rows:
        stored = json.loads(metrics) if isinstance(metrics, str) else metrics
        hists = {m: Histogram.from_dict(h) for m, h in stored.items()}
        batch.append(
            {
                "series_id": series[(monitor_id, location)],
                "width": RESOLUTIONS[resolution],
                "start": round(start),
                "count": count,
                "failures": failures,
                "metrics": rollup_codec.encode(hists, count),
            }
        )
        if len(batch) >= BATCH:
            bind.execute(sa.insert(new), batch)
            batch = []
    if batch:
        bind.execute(sa.insert(new), batch)


def downgrade() -> None:
    # History in the compact form is not converted back: the old tables come back empty.
    op.drop_table("probe_rollups")
    op.drop_table("probe_results")
    op.drop_table("probe_series")
    op.create_table(
        "probe_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("location", LOCATION, nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("resolve", sa.Float(), nullable=False),
        sa.Column("connect", sa.Float(), nullable=False),
        sa.Column("tls", sa.Float(), nullable=False),
        sa.Column("processing", sa.Float(), nullable=False),
        sa.Column("transfer", sa.Float(), nullable=False),
        sa.Column("cert_expiry", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_results")),
    )
    op.create_index("ix_probe_results_monitor_id_started_at", "probe_results", ["monitor_id", "started_at"])
    op.create_index("ix_probe_results_started_at", "probe_results", ["started_at"])
    op.create_table(
        "probe_rollups",
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("resolution", sa.String(length=8), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("location", LOCATION, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "monitor_id", "resolution", "start", "location", name=op.f("pk_probe_rollups")
        ),
    )
    op.create_index("ix_probe_rollups_resolution_start", "probe_rollups", ["resolution", "start"])
