"""Text from outside (feed titles, settings, SMTP replies, paths) printed by every command exactly
as written: rich never reads it as console markup. Each command runs as a user runs it, in a real
process whose stderr is a terminal (a pseudo-terminal), so logs go through rich's handler too."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.smtp_server import free_port

ROOT = Path(__file__).resolve().parent.parent
BOLD_END = "[/b]"
RED = "[red]red[/red]"
LINK = "[link=https://evil.example/]click[/link]"
MARKUP = f"{BOLD_END} {RED} {LINK}"
IN_A_NAME = "[red]x[b]"
"""Markup that can be part of a file name (no slash): `[red]` alone was silently swallowed."""
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

CURATED = f"""\
lead:
  title: "Harbour {MARKUP} talks"
  url: https://news.example.com/harbour
  teaser: Negotiators returned to the table on Thursday.
  image: {{url: "file:///nonexistent/{BOLD_END}{RED}.jpg"}}
more:
  - title: Grain corridor opens
    url: https://news.example.com/grain
    teaser: Sixty-two lorries crossed the pass on Wednesday night.
"""


@dataclass
class Run:
    code: int
    stdout: str
    terminal: str
    """What the pseudo-terminal showed on stderr, colour codes taken out."""


def run_at_terminal(cwd: Path, *args: str, **env: str) -> Run:
    """`digest ARGS` with stderr on a 500-column pseudo-terminal, stdout on a pipe."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    environment |= {"PYTHONPATH": str(ROOT), "COLUMNS": "500", "TERM": "xterm", **env}
    environment.pop("NO_COLOR", None)
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 500, 0, 0))
    shown: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "digest", *args],
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=child,
            timeout=120,
            check=False,
        )
    finally:
        os.close(child)
        reader.join(timeout=10)
        os.close(main)
    terminal = b"".join(shown).decode("utf-8", "replace").replace("\r\n", "\n")
    return Run(process.returncode, process.stdout.decode("utf-8"), _ANSI.sub("", terminal))


def assert_shown_as_written(run: Run, *texts: str) -> None:
    output = run.terminal + run.stdout
    assert "Traceback" not in output and "MarkupError" not in output, output
    assert "\x1b]8;" not in output, "a [link] became a terminal hyperlink"
    for text in texts:
        assert text in output, (text, output)


class _Refusing:
    """Refuses every recipient with a reply holding console markup."""

    async def handle_RCPT(
        self, _server: SMTP, _session: Session, _envelope: Envelope, _address: str, _opts: list
    ) -> str:
        return f"550 5.1.1 {MARKUP} unknown user"


@pytest.fixture
def refusing_smtp() -> Iterator[int]:
    port = free_port()
    controller = Controller(_Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def project(isolated_environment: Path) -> Path:
    (isolated_environment / "today.yaml").write_text(CURATED, encoding="utf-8")
    (isolated_environment / "list.csv").write_text(
        "email,name\nada@example.com,Ada\n", encoding="utf-8"
    )
    return isolated_environment


def test_every_command_prints_outside_text_as_written(project: Path, refusing_smtp: int) -> None:
    source = f"missing-{IN_A_NAME}.xml"
    build = run_at_terminal(
        project, "build", "--date", "2026-11-26", "--source", "today.yaml", "--source", source
    )
    assert build.code == 0, build.terminal
    # The summary names the lead's title; the logs name the broken source and the lost image.
    assert_shown_as_written(build, f"Harbour {MARKUP} talks", source, f"{BOLD_END}{RED}.jpg")

    preview = run_at_terminal(project, "preview", "--date", "2026-11-26")
    assert preview.code == 0
    assert_shown_as_written(preview, f"Harbour {MARKUP} talks")

    archive = run_at_terminal(project, "archive", "--out", f"site-{IN_A_NAME}")
    assert archive.code == 0
    assert_shown_as_written(archive, f"site-{IN_A_NAME}")
    (project / f"not-a-folder-{IN_A_NAME}").write_text("mine", encoding="utf-8")
    refused = run_at_terminal(project, "archive", "--out", f"not-a-folder-{IN_A_NAME}")
    assert refused.code == 2
    assert_shown_as_written(refused, f"error: --out: not-a-folder-{IN_A_NAME} is a file")

    sending = {
        "DIGEST_SUBSCRIBERS": "list.csv",
        "DIGEST_SECRET_KEY": "a-test-secret-that-is-long-enough-0123456789",
        "DIGEST_SMTP_HOST": "127.0.0.1",
        "DIGEST_SMTP_PORT": str(refusing_smtp),
        "DIGEST_SMTP_SECURITY": "none",
        "DIGEST_SMTP_MAX_ATTEMPTS": "1",
    }
    send = run_at_terminal(project, "send", "--force", **sending)
    assert send.code == 5
    assert_shown_as_written(send, "0 sent, 1 failed", "error: some messages could not be sent")
    status = run_at_terminal(project, "status", **sending)
    assert_shown_as_written(status, f"ada@example.com: 550 5.1.1 {MARKUP} unknown user")

    listed = project / f"list-{IN_A_NAME}.csv"
    listed.write_text(f"email,name\nnot-{IN_A_NAME}-an-address,Bad\n", encoding="utf-8")
    imported = run_at_terminal(project, "subscribers", "import", listed.name)
    assert imported.code == 0, imported.terminal
    assert_shown_as_written(imported, f"line 2: 'not-{IN_A_NAME}-an-address'", listed.name)

    wrong_to = run_at_terminal(project, "send", "--to", f"{RED}@", **sending)
    assert wrong_to.code == 2
    assert_shown_as_written(wrong_to, RED)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ["build"],
            {"DIGEST_TIMEZONE": "Europe/[/x]"},
            "error: DIGEST_TIMEZONE: expected an IANA time zone such as 'Europe/London' "
            "(got 'Europe/[/x]')",
        ),
        (
            ["serve", "--host", f"{RED}.example"],
            {},
            f"error: DIGEST_SERVE_PASSWORD: required to listen on {RED}.example",
        ),
        (["check"], {"DIGEST_ISSUES_DIR": f"issues-{IN_A_NAME}"}, f"issues-{IN_A_NAME}: no issue"),
        (
            ["schedule", "--next", "1"],
            {"DIGEST_SCHEDULE": f"0 6 * * {RED}"},
            "error: DIGEST_SCHEDULE: ",
        ),
    ],
)
def test_error_lines_show_settings_as_written(
    project: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    run = run_at_terminal(project, *args, **env)
    assert run.code != 0
    assert_shown_as_written(run, expected)
    assert len(run.terminal.strip().splitlines()) == 1, run.terminal


def test_a_scheduled_run_logs_outside_text_as_written(project: Path) -> None:
    run = run_at_terminal(
        project,
        "schedule",
        "--once",
        DIGEST_SCHEDULE_MODE="preview",
        DIGEST_SOURCES=f"today.yaml,missing-{LINK}.xml",
    )
    assert run.code == 0, run.terminal
    assert_shown_as_written(run, f"missing-{LINK}.xml", f"Harbour {MARKUP} talks")
