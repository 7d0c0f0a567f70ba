"""`digest subscribers` as an operator runs it, on SQLite and PostgreSQL: import, add, remove,
export and count, and the rule that nobody who left comes back through them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.audience.signups import SignUps
from digest.audience.status import BOUNCED, COMPLAINED, Consent
from digest.audience.store import SubscriberStore
from digest.cli import app
from digest.errors import DigestError
from digest.state.engine import open_engine


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[..., Run]


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """`digest subscribers ...` in this process (a subprocess costs seconds to start); a
    DigestError becomes its exit code and line, as digest.cli.main makes it."""
    monkeypatch.setenv("DIGEST_STATE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")

    def run_digest(*args: str) -> Run:
        result = CliRunner().invoke(app, ["subscribers", *args])
        error = result.exception
        if isinstance(error, DigestError):
            return Run(error.exit_code, result.stdout, result.stderr + f"error: {error}")
        if error is not None and not isinstance(error, SystemExit):
            raise error
        return Run(result.exit_code, result.stdout, result.stderr)

    return run_digest


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_add_remove_export_and_count(run: Runner, isolated_environment: Path) -> None:
    listing = write(
        isolated_environment / "list.csv",
        "email,name,city\nada@example.com,Ada,London\nBOB@example.com,Bob,Paris\n"
        "not-an-address,X,Y\nada@EXAMPLE.com,Ada again,Rome\n",
    )
    first = run("import", str(listing))
    assert first.returncode == 0, first.stderr
    assert "line 4: 'not-an-address'" in first.stderr
    assert (
        f"Imported {listing}: 2 added, 0 updated, 0 unchanged, 1 duplicates, 1 invalid rows."
        in " ".join(first.stderr.split())
    )

    added = run("add", "cy@example.com", "--name", "Cy")
    assert added.returncode == 0 and "cy@example.com: added." in added.stderr
    removed = run("remove", "Bob@Example.com")
    assert removed.returncode == 0 and "bob@example.com: unsubscribed." in removed.stderr.lower()

    unchanged = run("import", str(listing))
    assert unchanged.returncode == 0, unchanged.stderr
    assert f"{listing} has not changed since its import at " in " ".join(unchanged.stderr.split())
    assert "(3 valid, 1 invalid rows): nothing to do (--force imports it again)." in " ".join(
        unchanged.stderr.split()
    )
    again = run("import", str(listing), "--force")
    assert again.returncode == 0, again.stderr
    assert "1 skipped because the address left (1 unsubscribed)" in " ".join(again.stderr.split())
    refused = run("add", "bob@example.com")
    assert refused.returncode == 1
    assert "bob@example.com: unsubscribed on" in refused.stderr.lower()
    assert "removed by the operator" in refused.stderr

    count = run("count")
    assert count.returncode == 0, count.stderr
    lines = dict(line.split() for line in count.stdout.splitlines())
    assert lines == {
        "pending": "0",
        "active": "2",
        "unsubscribed": "1",
        "bounced": "0",
        "complained": "0",
        "total": "3",
    }

    exported = run("export")
    assert exported.returncode == 0, exported.stderr
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [row["email"] for row in table] == [
        "ada@example.com",
        "BOB@example.com",
        "cy@example.com",
    ]
    assert table[0]["city"] == "London" and table[0]["status"] == "active"
    assert table[1]["status"] == "unsubscribed" and table[1]["left_at"]
    assert table[2]["source"] == "cli" and table[2]["name"] == "Cy"
    only_left = run("export", "--status", "unsubscribed")
    assert [row["email"] for row in csv.DictReader(io.StringIO(only_left.stdout))] == [
        "BOB@example.com"
    ]


def test_a_name_that_a_spreadsheet_would_run_is_exported_inert(
    run: Runner,
    isolated_environment: Path,
) -> None:
    listing = write(
        isolated_environment / "list.csv",
        'email,name\nx@example.com,"=HYPERLINK(""http://evil"")"\n',
    )
    assert run("import", str(listing)).returncode == 0
    row = next(csv.DictReader(io.StringIO(run("export").stdout)))
    assert row["name"].startswith("'=")


def test_bad_input_gets_one_clear_line(run: Runner, isolated_environment: Path) -> None:
    broken = write(
        isolated_environment / "broken.csv", 'email,name\na@example.com,"Ada\nb@example.com,B\n'
    )
    result = run("import", str(broken))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"error: digest subscribers import: {broken}: line 2:")
    assert "nothing was imported" in result.stderr
    assert run("count").stdout.splitlines()[-1].split() == ["total", "0"]
    missing = run("import", str(isolated_environment / "nope.csv"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    bad = run("add", "not an address\r\nBcc: x@example.com")
    assert bad.returncode == 2 and "ADDRESS" in bad.stderr


@pytest.fixture
def another_database_url(
    database_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A second fresh state database on the same backend as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)


def test_an_export_imported_into_a_fresh_database_keeps_who_left(
    run: Runner,
    database_url: str,
    another_database_url: str,
    isolated_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listing = write(
        isolated_environment / "list.csv",
        "email,name,city\nada@example.com,=Ada,London\nbob@example.com,Bob,Paris\n"
        "cy@example.com,Cy,Rome\ndan@example.com,Dan,Oslo\neve@example.com,Eve,\n",
    )
    assert run("import", str(listing)).returncode == 0
    assert run("remove", "bob@example.com").returncode == 0
    assert run("add", "ivy@example.com", "--name", "Ivy").returncode == 0
    engine = open_engine(database_url)
    try:
        store = SubscriberStore(engine)
        store.set_status("cy@example.com", BOUNCED, reason="550 5.1.1 no such user")
        store.set_status("dan@example.com", COMPLAINED, reason="complaint: a spam report")
        signed = dt.datetime(2026, 11, 20, 9, 30)
        proof = Consent(
            at=signed,
            ip="203.0.113.9",
            user_agent='Mozilla/5.0, "quoted"',
            url="https://news.example/subscribe",
            text="Yes, send me the newsletter.\nOnce a week.",
        )
        signups = SignUps(engine)
        for email in ("gil@example.com", "hal@example.com"):
            signups.request_confirmation(
                email, name="", consent=proof, resend_after=dt.timedelta(0)
            )
        signups.confirm("hal@example.com", issued=signed.replace(tzinfo=dt.UTC), now=signed)
    finally:
        engine.dispose()
    exported = run("export")
    counted = run("count")
    assert exported.returncode == 0 and counted.returncode == 0
    export_file = write(isolated_environment / "export.csv", exported.stdout)

    monkeypatch.setenv("DIGEST_STATE_URL", another_database_url)
    imported = run("import", str(export_file))
    assert imported.returncode == 0, imported.stderr
    assert (
        f"Imported {export_file}: 8 added, 0 updated, 0 unchanged, 0 duplicates, 0 invalid "
        "rows; the list gives 3 as having left (1 unsubscribed, 1 bounced, 1 complained) and 1 "
        "as pending (not mailed until they confirm)."
    ) in " ".join(imported.stderr.split())
    assert run("count").stdout == counted.stdout
    assert run("export").stdout == exported.stdout
    lines = dict(line.split() for line in counted.stdout.splitlines())
    assert lines["active"] == "4" and lines["pending"] == "1" and lines["total"] == "8"

    again = run("import", str(export_file), "--force")
    assert "0 added, 0 updated, 8 unchanged" in " ".join(again.stderr.split())
    assert run("export").stdout == exported.stdout


def test_prune_forgets_sign_ups_nobody_confirmed(
    run: Runner, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine = open_engine(database_url)
    try:
        signups = SignUps(engine)
        for email, days in (("old@example.com", 11), ("new@example.com", 9)):
            at = now - dt.timedelta(days=days)
            proof = Consent(at=at, ip="203.0.113.9", user_agent="UA", url="https://s/", text="Yes")
            signups.request_confirmation(
                email, name="", consent=proof, resend_after=dt.timedelta(0)
            )
    finally:
        engine.dispose()
    monkeypatch.setenv("DIGEST_UNCONFIRMED_DAYS", "10")
    pruned = run("prune")
    assert pruned.returncode == 0, pruned.stderr
    assert (
        "Unconfirmed sign-ups older than 10 days: 1 pending addresses deleted, 0 sign-up "
        "details cleared from addresses that left."
    ) in " ".join(pruned.stderr.split())
    exported = list(csv.DictReader(io.StringIO(run("export").stdout)))
    assert [row["email"] for row in exported] == ["new@example.com"]
