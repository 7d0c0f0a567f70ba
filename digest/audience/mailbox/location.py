"""Where the mailbox is: DIGEST_MAILBOX_URL, an IMAP URL or a local Maildir path.

`imaps://user:password@host/INBOX` is IMAP over TLS (port 993); `imap://…` connects to port 143
and requires STARTTLS. Certificates are always verified. The user name and password are
percent-decoded (a password holding `@`, `:` or `/` is written `%40`, `%3A`, `%2F`), and only
`shown`, which never holds the password, may appear in a log line or an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

IMAP_PORTS = {"imaps": 993, "imap": 143}


@dataclass(frozen=True, slots=True)
class ImapLocation:
    host: str
    port: int
    username: str
    password: SecretStr = field(repr=False)
    folder: str
    implicit_tls: bool

    @property
    def shown(self) -> str:
        scheme = "imaps" if self.implicit_tls else "imap"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{self.username}@{host}:{self.port}/{self.folder}"


@dataclass(frozen=True, slots=True)
class MaildirLocation:
    path: Path

    @property
    def shown(self) -> str:
        return str(self.path)


Location = ImapLocation | MaildirLocation


def parse_location(value: str) -> Location:
    """Read DIGEST_MAILBOX_URL; ValueError says what is wrong without repeating the password."""
    text = value.strip()
    scheme = text.partition("://")[0].lower() if "://" in text else ""
    if scheme not in IMAP_PORTS:
        if scheme:
            raise ValueError(f"expected imaps://, imap:// or a Maildir path, not {scheme}://")
        return MaildirLocation(Path(text).expanduser())
    parts = urlsplit(text)
    try:
        port = parts.port or IMAP_PORTS[scheme]
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"expected {scheme}://user:password@host/FOLDER, with a host")
    if not parts.username or parts.password is None:
        raise ValueError(f"expected {scheme}://user:password@host/FOLDER, with user and password")
    if parts.query or parts.fragment:
        raise ValueError("the URL may not have a ?query or #fragment")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapLocation(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username),
        password=SecretStr(unquote(parts.password)),
        folder=folder,
        implicit_tls=scheme == "imaps",
    )
