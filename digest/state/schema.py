"""The tables of the state database as the code reads and writes them today.

These definitions never create anything: the named migrations in `digest.state.migrations` do, and
a change here always comes with a new migration there.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

PENDING, SENT, FAILED = "pending", "sent", "failed"

metadata = sa.MetaData()


def utcnow() -> dt.datetime:
    """Times are stored as naive UTC on both backends (`timestamp without time zone` on
    PostgreSQL), so a server's TimeZone setting can never shift them."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


migrations = sa.Table(
    "migrations",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue", sa.String(64), nullable=False),
    sa.Column("email_key", sa.String(320), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_reply", sa.String(1000), nullable=False),
    sa.Column("message_id", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("lease_until", sa.DateTime, nullable=True),
)
"""One row per (issue, subscriber). `email_key` is the address lower-cased by the code, so the
unique key (issue, email_key) is case-insensitive on both backends without relying on a collation
(SQLite's NOCASE folds ASCII only; PostgreSQL has no case-insensitive default).

A pending row is free, or claimed by one sender (`claimed_by`, a `send_workers.id`) until
`lease_until`; an outcome clears the claim (`digest.state.claims`)."""

sends = sa.Table(
    "sends",
    metadata,
    sa.Column("issue", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(1000), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("template", sa.Text, nullable=True),
)
"""One row per issue whose send began; `finished_at` says the whole list was gone through;
`template` is the message its lead stored for the workers that join it."""

schedule_runs = sa.Table(
    "schedule_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scheduled_for", sa.DateTime, nullable=True),
    sa.Column("issue", sa.String(64), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=True),
    sa.Column("detail", sa.String(2000), nullable=False, server_default=""),
)
"""One row per scheduler run (scheduled, resumed, missed or --once); `outcome` is NULL while it
runs, so a NULL left behind means the process died during the run."""

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("confirmed_at", sa.DateTime, nullable=True),
    sa.Column("left_at", sa.DateTime, nullable=True),
    sa.Column("confirm_sent_at", sa.DateTime, nullable=True),
    sa.Column("consent_at", sa.DateTime, nullable=True),
    sa.Column("consent_ip", sa.String(64), nullable=False),
    sa.Column("consent_user_agent", sa.String(500), nullable=False),
    sa.Column("consent_url", sa.String(500), nullable=False),
    sa.Column("consent_text", sa.Text, nullable=False),
)
"""One row per address (digest.audience.store). `email_key` is the address lower-cased, unique,
like the ledger's; `fields` holds the list's other columns as JSON text (comparable on both
backends, unlike PostgreSQL's json); `status` is pending, active, unsubscribed, bounced or
complained; `reason` says why it last changed; `consent_*` is the proof of a sign-up on the site."""
send_workers = sa.Table(
    "send_workers",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("machine", sa.String(128), nullable=False),
    sa.Column("issue", sa.String(64), nullable=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("joined_at", sa.DateTime, nullable=True),
    sa.Column("heard_at", sa.DateTime, nullable=False),
    sa.Column("batches", sa.Integer, nullable=False),
    sa.Column("sent", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
)
"""One row per live sending process (`digest send`, `digest worker`, the scheduler's send), kept
fresh by its heartbeat; `machine` tells whether another process can check its pid
(`digest.state.workers`). `sent`, `failed` and `batches` count since it joined `issue`."""

bounce_events = sa.Table(
    "bounce_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("message_key", sa.String(64), nullable=False),
    sa.Column("email_key", sa.String(320), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("issue", sa.String(64), nullable=True),
    sa.Column("delivery_id", sa.Integer, nullable=True),
    sa.Column("evidence", sa.String(16), nullable=False),
    sa.Column("received_at", sa.DateTime, nullable=False),
)
"""One row per subscriber a bounce or complaint in the mailbox concerned: `kind` is permanent,
temporary or complaint; `issue` the issue it came back from, when the report tells; `message_key`
the SHA-256 of the message, unique with `email_key`, so a message read again counts once."""

rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("bucket", sa.String(200), primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
)
"""Hits per bucket (e.g. sign-ups from one client address) per fixed window, shared by every
process of `digest site` (digest.site.limits)."""

list_imports = sa.Table(
    "list_imports",
    metadata,
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
"""The last import of each list file (digest.audience.importer): the SHA-256 `fingerprint` of what
was imported, so a file that has not changed is not read again, and what that import found, to
report it again."""

mailbox_seen = sa.Table(
    "mailbox_seen",
    metadata,
    sa.Column("mailbox", sa.String(500), primary_key=True),
    sa.Column("message", sa.String(255), primary_key=True),
    sa.Column("generation", sa.String(32), nullable=False),
    sa.Column("rules", sa.Integer, nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
)
"""The messages of the bounce mailbox a pass read and left alone (digest.audience.mailbox.seen), so
the next pass does not download them again: `mailbox` as shown (never with a password), `message`
the IMAP UID or the Maildir file's unique name, `generation` the IMAP folder's UIDVALIDITY (a new
one means every UID changed), `rules` the version of the rules that judged it."""
