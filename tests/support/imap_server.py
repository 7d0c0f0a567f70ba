"""A real IMAP server for tests: Debian's Dovecot (`dovecot-imapd`, installed by scripts/test),
started from a configuration of its own in a temporary folder, listening on two loopback ports:
IMAP with STARTTLS and IMAP over TLS, both with a certificate from a test CA (trustme). It is
unprivileged: no system configuration, no system service, no privileged port. Run as root (as CI
does), Dovecot's own processes drop to its `dovecot` and `dovenull` users; run as anyone else,
everything runs as that user.

One server serves the whole session; each test gets an account of its own (`imap_account`, any
user name logs in with PASSWORD), so tests never see each other's messages."""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
import trustme
from imapclient import IMAPClient

from tests.support.smtp_server import free_port

DOVECOT = Path("/usr/sbin/dovecot")
IMAP_BINARY = Path("/usr/lib/dovecot/imap")
START_TIMEOUT = 20.0
PASSWORD = "pw/with@odd?chars:"
"""Every account's password (a static passdb, so accounts need no reload); the URL encodes it."""

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
ssl_min_protocol = TLSv1.2
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
auth_mechanisms = plain
disable_plaintext_auth = yes
auth_cache_size = 0
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class ImapAccount:
    """One user's mailbox on the test server."""

    server: ImapServer
    username: str
    password: str

    def url(self, folder: str = "INBOX", *, starttls: bool = False) -> str:
        scheme, port = (
            ("imap", self.server.imap_port) if starttls else ("imaps", self.server.imaps_port)
        )
        secret = quote(self.password, safe="")
        return f"{scheme}://{self.username}:{secret}@127.0.0.1:{port}/{folder}"

    def client(self) -> IMAPClient:
        client = IMAPClient(
            "127.0.0.1", port=self.server.imaps_port, ssl=True, ssl_context=self.server.client_tls
        )
        client.login(self.username, self.password)
        return client

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            for message in messages:
                client.append(folder, message)
        finally:
            client.logout()

    def messages(self, folder: str = "INBOX") -> list[tuple[tuple[bytes, ...], bytes]]:
        """(flags, raw bytes) of every message in `folder`, oldest first; nothing marked as read."""
        client = self.client()
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search(["ALL"]))
            found = client.fetch(uids, ["FLAGS", "BODY.PEEK[]"]) if uids else {}
            return [(found[uid][b"FLAGS"], found[uid][b"BODY[]"]) for uid in uids]
        finally:
            client.logout()


@dataclass
class ImapServer:
    root: Path
    imap_port: int
    imaps_port: int
    ca_file: Path
    client_tls: ssl.SSLContext
    process: subprocess.Popen[bytes] | None = None
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def account(self) -> ImapAccount:
        """A new user with an empty INBOX."""
        return ImapAccount(self, f"user{next(self._numbers)}", PASSWORD)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""


def _users() -> tuple[str, str, str, int, int]:
    """(internal user, its group, login user, mail uid, mail gid) for who runs the tests."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(os.getegid()).gr_name
        return me.pw_name, group, me.pw_name, me.pw_uid, me.pw_gid
    internal = pwd.getpwnam("dovecot")
    pwd.getpwnam("dovenull")
    return (
        "dovecot",
        grp.getgrgid(internal.pw_gid).gr_name,
        "dovenull",
        internal.pw_uid,
        internal.pw_gid,
    )


def _wait_for(port: int, process: subprocess.Popen[bytes], server: ImapServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not start on port {port}:\n{server.log()[-3000:]}")


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """One Dovecot for the session (fails, never skips, when Dovecot is not installed)."""
    if not (DOVECOT.exists() and IMAP_BINARY.exists()):
        raise RuntimeError(
            "Dovecot is not installed: run scripts/test, or apt-get install dovecot-imapd"
        )
    internal_user, internal_group, login_user, uid, gid = _users()
    # Not under pytest's own temporary folder: as root that is mode 0700, and Dovecot's
    # unprivileged processes must reach their sockets and the mail.
    root = Path(tempfile.mkdtemp(prefix="digest-dovecot-"))
    root.chmod(0o755)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(root / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(root / "server.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    (root / "mail").mkdir()
    os.chown(root / "mail", uid, gid)
    client_tls = ssl.create_default_context(cafile=str(root / "ca.pem"))
    server = ImapServer(root, free_port(), free_port(), root / "ca.pem", client_tls)
    (root / "dovecot.conf").write_text(
        CONFIG.format(
            root=root,
            internal_user=internal_user,
            internal_group=internal_group,
            login_user=login_user,
            uid=uid,
            gid=gid,
            imap_port=server.imap_port,
            imaps_port=server.imaps_port,
            password=PASSWORD,
        ),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server.process = process
    try:
        _wait_for(server.imaps_port, process, server)
        _wait_for(server.imap_port, process, server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_account(imap_server: ImapServer) -> ImapAccount:
    return imap_server.account()
