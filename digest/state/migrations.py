"""The named migrations of the state database: one registry, applied in order, each recorded.

To change the schema, write a new function `mNNN_what(conn)` below the others, append it to
`MIGRATIONS`, and update `digest.state.schema` to match. A released migration is frozen: it
defines the tables as they were then (in its own MetaData), never by importing `schema`, so a
database made years ago is brought to today's shape by the same steps as a new one. Each runs in
the one transaction that records it, on SQLite and PostgreSQL alike (both have transactional DDL).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from digest.state.schema import PENDING, migrations, utcnow

MIGRATION_LOCK = 0x6469676573740002
"""PostgreSQL advisory lock id held while migrating: "digest" in ASCII, then 2."""

Migration = Callable[[Connection], None]


def m001_deliveries(conn: Connection) -> None:
    """One row per (issue, subscriber); the unique key is what de-duplicates the list."""
    frozen = sa.MetaData()
    table = sa.Table(
        "deliveries",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issue", sa.String(64), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default=PENDING),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_reply", sa.String(1000), nullable=False, server_default=""),
        sa.Column("message_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("issue", "email_key", name="uq_deliveries_issue_email"),
    )
    sa.Index("ix_deliveries_issue_status", table.c.issue, table.c.status, table.c.id)
    frozen.create_all(conn)


def m002_sends(conn: Connection) -> None:
    """One row per issue whose send began."""
    frozen = sa.MetaData()
    sa.Table(
        "sends",
        frozen,
        sa.Column("issue", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(1000), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
    )
    frozen.create_all(conn)


def m003_schedule_runs(conn: Connection) -> None:
    """The scheduler's runs. Databases from before this migration may already hold the table
    (the scheduler created it itself), hence `checkfirst`."""
    frozen = sa.MetaData()
    sa.Table(
        "schedule_runs",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scheduled_for", sa.DateTime, nullable=True),
        sa.Column("issue", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("detail", sa.String(2000), nullable=False, server_default=""),
    )
    frozen.create_all(conn, checkfirst=True)


def m004_subscribers(conn: Connection) -> None:
    """The subscribers (digest.audience.store): one row per address, unique case-insensitively
    through `email_key`; the index on (status, id) reads the active ones in list order."""
    frozen = sa.MetaData()
    table = sa.Table(
        "subscribers",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("fields", sa.Text, nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("confirmed_at", sa.DateTime, nullable=True),
        sa.Column("left_at", sa.DateTime, nullable=True),
        sa.Column("confirm_sent_at", sa.DateTime, nullable=True),
        sa.Column("consent_at", sa.DateTime, nullable=True),
        sa.Column("consent_ip", sa.String(64), nullable=False, server_default=""),
        sa.Column("consent_user_agent", sa.String(500), nullable=False, server_default=""),
        sa.Column("consent_url", sa.String(500), nullable=False, server_default=""),
        sa.Column("consent_text", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("email_key", name="uq_subscribers_email_key"),
    )
    sa.Index("ix_subscribers_status", table.c.status, table.c.id)
    frozen.create_all(conn)


def m005_bounce_events(conn: Connection) -> None:
    """Bounces and complaints read from the mailbox (`digest mailbox`), per subscriber."""
    frozen = sa.MetaData()
    table = sa.Table(
        "bounce_events",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_key", sa.String(64), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("issue", sa.String(64), nullable=True),
        sa.Column("delivery_id", sa.Integer, nullable=True),
        sa.Column("evidence", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("message_key", "email_key", name="uq_bounce_events_message_email"),
    )
    sa.Index("ix_bounce_events_email", table.c.email_key, table.c.kind, table.c.received_at)
    sa.Index("ix_bounce_events_issue", table.c.issue, table.c.kind)
    frozen.create_all(conn)


def _add_column(conn: Connection, table: str, name: str, kind: sa.types.TypeEngine[object]) -> None:
    """ALTER TABLE … ADD COLUMN, with the type spelled in the connection's dialect."""
    spelled = kind.compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {name} {spelled}"))


def m006_claims(conn: Connection) -> None:
    """Senders claim pending rows for a lease; the claimed rows are indexed on their own (a
    partial index: a row leaves it when its outcome clears the claim), and each sender has a row
    of its own."""
    _add_column(conn, "deliveries", "claimed_by", sa.String(64))
    _add_column(conn, "deliveries", "lease_until", sa.DateTime())
    frozen = sa.MetaData()
    deliveries = sa.Table(
        "deliveries",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("claimed_by", sa.String(64)),
    )
    claimed = deliveries.c.claimed_by.isnot(None)
    sa.Index(
        "ix_deliveries_claimed_by",
        deliveries.c.claimed_by,
        sqlite_where=claimed,
        postgresql_where=claimed,
    ).create(conn)
    sa.Table(
        "send_workers",
        frozen,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("machine", sa.String(128), nullable=False),
        sa.Column("issue", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("joined_at", sa.DateTime, nullable=True),
        sa.Column("heard_at", sa.DateTime, nullable=False),
        sa.Column("batches", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    ).create(conn)


def m007_send_template(conn: Connection) -> None:
    """The message of each send (`MessageTemplate.stored`), for workers on other machines."""
    _add_column(conn, "sends", "template", sa.Text())


def m008_rate_limits(conn: Connection) -> None:
    """The public site's rate limits (digest.site.limits), shared by all its processes."""
    frozen = sa.MetaData()
    sa.Table(
        "rate_limits",
        frozen,
        sa.Column("bucket", sa.String(200), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
    )
    frozen.create_all(conn)


def m009_list_imports(conn: Connection) -> None:
    """The last import of each list file (digest.audience.importer), so an unchanged list is
    not imported again before every send."""
    frozen = sa.MetaData()
    sa.Table(
        "list_imports",
        frozen,
        sa.Column("path", sa.String(1000), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("invalid_rows", sa.Integer, nullable=False),
        sa.Column("suppressed_rows", sa.Integer, nullable=False),
        sa.Column("unmailed_rows", sa.Integer, nullable=False),
        sa.Column("pending_rows", sa.Integer, nullable=False),
        sa.Column("invalid_file", sa.String(1000), nullable=False),
    )
    frozen.create_all(conn)


def m010_mailbox_seen(conn: Connection) -> None:
    """The bounce mailbox's messages that a pass left alone (digest.audience.mailbox.seen)."""
    frozen = sa.MetaData()
    sa.Table(
        "mailbox_seen",
        frozen,
        sa.Column("mailbox", sa.String(500), primary_key=True),
        sa.Column("message", sa.String(255), primary_key=True),
        sa.Column("generation", sa.String(32), nullable=False),
        sa.Column("rules", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.DateTime, nullable=False),
    )
    frozen.create_all(conn)


MIGRATIONS: tuple[Migration, ...] = (
    m001_deliveries,
    m002_sends,
    m003_schedule_runs,
    m004_subscribers,
    m005_bounce_events,
    m006_claims,
    m007_send_template,
    m008_rate_limits,
    m009_list_imports,
    m010_mailbox_seen,
)
"""Every migration, oldest first. Add new ones at the end."""


def migrate(engine: Engine) -> list[str]:
    """Apply the migrations this database has not seen, in order; return their names.

    Processes starting together (several workers on a new database) migrate one at a time: SQLite
    takes its write lock when the transaction begins, PostgreSQL waits on an advisory lock."""
    applied: list[str] = []
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        migrations.create(conn, checkfirst=True)
        done = set(conn.scalars(sa.select(migrations.c.name)))
        for migration in MIGRATIONS:
            if migration.__name__ in done:
                continue
            migration(conn)
            conn.execute(sa.insert(migrations).values(name=migration.__name__, applied_at=utcnow()))
            applied.append(migration.__name__)
    return applied
