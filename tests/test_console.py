"""Text from outside (feed titles, settings, SMTP replies, paths) printed by every command exactly
as written: rich never reads it as console markup, and the terminal never obeys a control
character in it (ESC, BEL, a C1 CSI), which is shown as an escape instead. Each command runs as a
user runs it, in a real process whose stderr (and, where it matters, stdout) is a terminal (a
pseudo-terminal), so logs go through rich's handler too; under a process manager (stderr a pipe)
each log record stays one line."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
INJECTED = "\x1b]0;retitled\x07\x1b[2J"
"""Retitle the window, clear the screen: what a feed must not make happen."""
INJECTED_SHOWN = "\\x1b]0;retitled\\x07\\x1b[2J"
C1_CSI = "\x9b2J"
"""Clear the screen with the one-character C1 control sequence introducer."""

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
    """What the pseudo-terminal showed, colour codes taken out."""
    raw: str
    """What the pseudo-terminal was sent, byte for byte (decoded as UTF-8)."""


def run_at_terminal(cwd: Path, *args: str, stdout_too: bool = False, **env: str) -> Run:
    """`digest ARGS` with stderr on a 500-column pseudo-terminal, stdout on a pipe (on the
    terminal too with `stdout_too`)."""
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
            stdout=child if stdout_too else subprocess.PIPE,
            stderr=child,
            timeout=120,
            check=False,
        )
    finally:
        os.close(child)
        reader.join(timeout=10)
        os.close(main)
    raw = b"".join(shown).decode("utf-8", "replace").replace("\r\n", "\n")
    stdout = process.stdout.decode("utf-8") if process.stdout is not None else ""
    return Run(process.returncode, stdout, _ANSI.sub("", raw), raw)


def run_piped(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`digest ARGS` with stdout and stderr on pipes, as under a process manager."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        env=environment | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_shown_as_written(run: Run, *texts: str) -> None:
    output = run.terminal + run.stdout
    assert "Traceback" not in output and "MarkupError" not in output, output
    assert "\x1b]8;" not in output, "a [link] became a terminal hyperlink"
    for text in texts:
        assert text in output, (text, output)


def assert_nothing_obeyed(run: Run) -> None:
    """None of the control sequences from outside reached the terminal (rich's own, for colours,
    the progress bar and its cursor, do not retitle, clear the screen or ring)."""
    for sequence in ("\x1b]", "\x1b[2J", "\x07", "\x9b"):
        assert sequence not in run.raw, (sequence, run.raw)


class _Refusing:
    """Refuses every recipient with `reply`."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(
        self, _server: SMTP, _session: Session, _envelope: Envelope, _address: str, _opts: list
    ) -> str:
        return self.reply


@contextmanager
def refusing(reply: str) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 refusing every recipient with `reply`; yields its port."""
    port = free_port()
    controller = Controller(_Refusing(reply), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def refusing_smtp() -> Iterator[int]:
    with refusing(f"550 5.1.1 {MARKUP} unknown user") as port:
        yield port


def sending(port: int) -> dict[str, str]:
    """The settings `digest send` needs, against the SMTP server on `port`."""
    return {
        "DIGEST_SUBSCRIBERS": "list.csv",
        "DIGEST_SECRET_KEY": "a-test-secret-that-is-long-enough-0123456789",
        "DIGEST_SMTP_HOST": "127.0.0.1",
        "DIGEST_SMTP_PORT": str(port),
        "DIGEST_SMTP_SECURITY": "none",
        "DIGEST_SMTP_MAX_ATTEMPTS": "1",
    }


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

    send = run_at_terminal(project, "send", "--force", **sending(refusing_smtp))
    assert send.code == 5
    assert_shown_as_written(send, "0 sent, 1 failed", "error: some messages could not be sent")
    status = run_at_terminal(project, "status", **sending(refusing_smtp))
    assert_shown_as_written(status, f"ada@example.com: 550 5.1.1 {MARKUP} unknown user")

    listed = project / f"list-{IN_A_NAME}.csv"
    listed.write_text(f"email,name\nnot-{IN_A_NAME}-an-address,Bad\n", encoding="utf-8")
    imported = run_at_terminal(project, "subscribers", "import", listed.name)
    assert imported.code == 0, imported.terminal
    assert_shown_as_written(imported, f"line 2: 'not-{IN_A_NAME}-an-address'", listed.name)

    wrong_to = run_at_terminal(project, "send", "--to", f"{RED}@", **sending(refusing_smtp))
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


def test_control_characters_from_outside_are_shown_not_obeyed(project: Path) -> None:
    """A title, a source's name, an SMTP reply and a setting carrying terminal control sequences:
    every command shows them as escapes, in its messages, its logs and its results on stdout."""
    kicker = 'kicker: "Business/\\u009b2J/Publishing/"'  # a path: `digest check` names it
    curated = CURATED.replace("Harbour ", "Harbour \\u009b2J ")  # YAML's escape for U+009B
    (project / "today.yaml").write_text(
        curated.replace("    teaser: Sixty", f"    {kicker}\n    teaser: Sixty"), encoding="utf-8"
    )
    source = f"missing-{INJECTED}.xml"
    build = run_at_terminal(
        project, "build", "--date", "2026-11-26", "--source", "today.yaml", "--source", source
    )
    assert build.code == 0, build.terminal
    assert_nothing_obeyed(build)
    assert f"Could not read missing-{INJECTED_SHOWN}.xml" in build.terminal
    assert "Harbour \\x9b2J" in build.terminal

    check = run_at_terminal(project, "check", "--no-spam", stdout_too=True)
    assert_nothing_obeyed(check)
    assert "Business/\\x9b2J/Publishing/" in check.terminal

    with refusing(f"550 5.1.1 {INJECTED} unknown user") as port:
        send = run_at_terminal(project, "send", "--force", **sending(port))
        assert send.code == 5
        assert_nothing_obeyed(send)
        status = run_at_terminal(project, "status", stdout_too=True, **sending(port))
    assert_nothing_obeyed(status)
    assert f"ada@example.com: 550 5.1.1 {INJECTED_SHOWN} unknown user" in status.terminal

    wrong = run_at_terminal(project, "build", DIGEST_TIMEZONE=f"Europe/{INJECTED}")
    assert wrong.code != 0
    assert_nothing_obeyed(wrong)
    assert f"(got 'Europe/{INJECTED_SHOWN}')" in wrong.terminal


def test_piped_results_are_data_and_stay_exact(project: Path) -> None:
    """Written to a file or a program, a command's results are not changed: only a terminal gets
    escapes."""
    listed = project / "names.csv"
    listed.write_text(f"email,name\nada@example.com,Ada {INJECTED}\n", encoding="utf-8")
    imported = run_at_terminal(project, "subscribers", "import", listed.name)
    assert imported.code == 0, imported.terminal
    exported = run_at_terminal(project, "subscribers", "export")
    assert f"Ada {INJECTED}" in exported.stdout
    at_terminal = run_at_terminal(project, "subscribers", "export", stdout_too=True)
    assert_nothing_obeyed(at_terminal)
    assert f"Ada {INJECTED_SHOWN}" in at_terminal.terminal


def test_under_a_process_manager_each_log_record_is_one_line(project: Path) -> None:
    """With stderr a pipe (systemd, a container's log), a line break in outside text cannot start
    a forged record, nor a control character reach whoever reads the log at a terminal."""
    source = f"missing-\nERROR digest.send: forged record {INJECTED}.xml"
    run = run_piped(
        project, "build", "--date", "2026-11-26", "--source", "today.yaml", "--source", source
    )
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert [line for line in lines if "forged record" in line] == [
        f"WARNING digest.sources: Could not read missing-\\nERROR digest.send: forged record "
        f"{INJECTED_SHOWN}.xml: no such file"
    ]
    assert "\x1b" not in run.stderr


def test_the_desk_s_web_server_logs_through_the_same_handler(project: Path) -> None:
    """uvicorn's own records (here: the port is taken) are digest's log lines, not uvicorn's."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        run = run_piped(project, "serve", "--port", str(taken.getsockname()[1]))
    assert run.returncode != 0
    record = re.compile(r"^ERROR uvicorn\.error: .*address already in use", re.MULTILINE)
    assert record.search(run.stderr), run.stderr
