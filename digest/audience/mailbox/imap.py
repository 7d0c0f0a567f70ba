"""The mailbox over IMAP (IMAPClient): TLS from the first byte (imaps) or STARTTLS (imap), the
certificate verified against the system's CAs or DIGEST_MAILBOX_CA_FILE.

A pass reads each message with BODY.PEEK, so nothing it leaves alone is even marked as read; a
handled message gets the $DigestHandled keyword and, with DIGEST_MAILBOX_DONE_FOLDER, is then moved
there. A move that failed after the keyword was set is done at the start of the next pass."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from digest.audience.mailbox.folders import KEYWORD, MAX_MESSAGE_BYTES, TIMEOUT, Letter
from digest.audience.mailbox.location import ImapLocation
from digest.errors import ConfigError, MailboxError

FETCH_BATCH = 50


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"DIGEST_MAILBOX_CA_FILE: cannot load {ca_file} ({exc})") from None


class ImapMailbox:
    """One folder of an IMAP account, for one pass."""

    def __init__(
        self, location: ImapLocation, *, ca_file: Path | None = None, done_folder: str = ""
    ) -> None:
        self.location = location
        self.shown = location.shown
        self.done_folder = done_folder
        self.generation = ""
        self._context = tls_context(ca_file)
        self._client: IMAPClient | None = None

    # --- connection ---

    def __enter__(self) -> ImapMailbox:
        try:
            self._client = self._connect()
            self._prepare(self._client)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (IMAPClientError, OSError):
            client.shutdown()

    def _fail(self, what: str) -> MailboxError:
        return MailboxError(f"mailbox {self.shown}: {what}")

    def _connect(self) -> IMAPClient:
        where = self.location
        try:
            client = IMAPClient(
                where.host,
                port=where.port,
                ssl=where.implicit_tls,
                ssl_context=self._context,
                timeout=TIMEOUT,
            )
            if not where.implicit_tls:
                if b"STARTTLS" not in client.capabilities():
                    client.shutdown()
                    raise self._fail("the server does not offer STARTTLS (use imaps:// for TLS)")
                client.starttls(self._context)
            client.login(where.username, where.password.get_secret_value())
        except ssl.SSLCertVerificationError as exc:
            raise self._fail(f"certificate not trusted ({exc.verify_message})") from None
        except LoginError:
            raise self._fail(f"login as {where.username!r} refused") from None
        except (IMAPClientError, ssl.SSLError) as exc:
            raise self._fail(f"IMAP error ({_one_line(exc)})") from None
        except OSError as exc:
            raise self._fail(f"cannot connect ({_one_line(exc)})") from None
        return client

    def _prepare(self, client: IMAPClient) -> None:
        try:
            if not client.folder_exists(self.location.folder):
                raise self._fail(f"no folder {self.location.folder!r}")
            if self.done_folder and not client.folder_exists(self.done_folder):
                client.create_folder(self.done_folder)
            selected = client.select_folder(self.location.folder)
            self.generation = str(selected.get(b"UIDVALIDITY", ""))
            permanent = selected.get(b"PERMANENTFLAGS", ())
            if b"\\*" not in permanent and KEYWORD.encode() not in permanent:
                raise self._fail(
                    f"the folder does not keep keywords such as {KEYWORD}, so handled messages "
                    "cannot be marked; set DIGEST_MAILBOX_DONE_FOLDER to move them instead"
                )
            if self.done_folder:
                self._move(client.search(["KEYWORD", KEYWORD]))
        except IMAPClientError as exc:
            raise self._fail(f"IMAP error ({_one_line(exc)})") from None

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise RuntimeError("the mailbox is used outside its `with` block")
        return self._client

    # --- a pass ---

    def unhandled(self) -> list[str]:
        """The UIDs of every message without the keyword, oldest first."""
        try:
            return [str(uid) for uid in sorted(self.client.search(["NOT", "KEYWORD", KEYWORD]))]
        except IMAPClientError as exc:
            raise self._fail(f"IMAP error ({_one_line(exc)})") from None
        except OSError as exc:
            raise self._fail(f"connection lost ({_one_line(exc)})") from None

    def fetch(self, keys: list[str]) -> Iterator[Letter]:
        """The messages of `keys` (UIDs), in batches; one deleted meanwhile is skipped."""
        client = self.client
        uids = [int(key) for key in keys]
        try:
            for start in range(0, len(uids), FETCH_BATCH):
                batch = uids[start : start + FETCH_BATCH]
                sizes = client.fetch(batch, ["RFC822.SIZE"])
                small = [
                    uid
                    for uid in batch
                    if sizes.get(uid, {}).get(b"RFC822.SIZE", 0) <= MAX_MESSAGE_BYTES
                ]
                bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
                for uid in batch:
                    raw = bodies.get(uid, {}).get(b"BODY[]")
                    if uid in sizes:
                        yield Letter(str(uid), raw if isinstance(raw, bytes) else None)
        except IMAPClientError as exc:
            raise self._fail(f"IMAP error ({_one_line(exc)})") from None
        except OSError as exc:
            raise self._fail(f"connection lost ({_one_line(exc)})") from None

    def mark_handled(self, letter: Letter) -> None:
        uid = int(letter.key)
        try:
            self.client.add_flags([uid], [KEYWORD], silent=True)
            if self.done_folder:
                self._move([uid])
        except IMAPClientError as exc:
            raise self._fail(f"cannot mark message {uid} ({_one_line(exc)})") from None
        except OSError as exc:
            raise self._fail(f"connection lost ({_one_line(exc)})") from None

    def _move(self, uids: list[int]) -> None:
        if not uids:
            return
        client = self.client
        if client.has_capability("MOVE"):
            client.move(uids, self.done_folder)
        elif client.has_capability("UIDPLUS"):
            client.copy(uids, self.done_folder)
            client.add_flags(uids, [b"\\Deleted"], silent=True)
            client.uid_expunge(uids)
        else:
            raise self._fail(
                "the server can neither MOVE nor expunge single messages (UIDPLUS); leave "
                "DIGEST_MAILBOX_DONE_FOLDER empty to mark handled messages with a keyword"
            )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
