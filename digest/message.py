"""The outgoing MIME message: built once per issue, personalised per subscriber by substitution.

Building an `EmailMessage` per subscriber costs milliseconds; a newsletter goes to many thousands.
So `compose` encodes everything that is the same for every reader once (headers, MIME skeleton, the
quoted-printable bodies cut at the placeholders), and `MessageTemplate.personalise` only encodes the
few bytes that differ and joins the pieces.

Quoted-printable allows a soft line break (`=CRLF`) anywhere, so each piece is encoded on its own,
starting at column 0, and the pieces are joined with soft breaks: every line stays within 76
characters and no placeholder can be split by the encoder, which a substitution into an
already-encoded body would risk.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import html
import json
import re
import unicodedata
from dataclasses import dataclass, fields
from email import policy
from email.headerregistry import Address
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path

import dkim

from digest.config import Settings
from digest.errors import BuildError, ConfigError, DeliveryError
from digest.models import NAME_PLACEHOLDER, TOKEN_PLACEHOLDER, Issue, Recipient, RenderedEmail

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
MAX_NAME_LENGTH = 100
DKIM_HEADERS = (
    b"from",
    b"to",
    b"reply-to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)
"""Signed headers: RFC 8058 requires List-Unsubscribe and List-Unsubscribe-Post among them."""

_PLACEHOLDERS = re.compile(f"({TOKEN_PLACEHOLDER}|{NAME_PLACEHOLDER})")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\s]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")
_URL_UNSAFE = re.compile(r"[\x00-\x20<>\"\x7f-\U0010ffff]")
_SMTP = policy.SMTP
# A line that starts with "." (the CSS rules of the <style> block) costs every message's SMTP
# DATA a copy to double the dot (RFC 5321 4.5.2); in HTML a space before it changes nothing.
_LINE_START_DOT = re.compile(r"^\.", re.MULTILINE)


def clean_text(value: str) -> str:
    """One line of text: control characters and line breaks of every kind become single spaces,
    so data can never start a header of its own."""
    return _UNSAFE.sub(" ", value).strip()


def address_problem(email: str) -> str | None:
    """Why `email` cannot be a recipient, or None. Lists and test addresses are normalised to
    ASCII before they get here (an internationalised domain in its xn-- form); this is the last
    line before the envelope and the To header: digest never asks the relay for SMTPUTF8, so an
    address must be ASCII, and a control character is never part of one."""
    control = _CONTROL.search(email)
    if control:
        return f"control character U+{ord(control.group()):04X} in the address"
    local, _, domain = email.rpartition("@")
    if not local.isascii():
        return "non-ASCII local part, which needs SMTPUTF8 (digest does not ask the relay for it)"
    if not domain.isascii():
        return "non-ASCII domain (write it in its xn-- form)"
    if not _ADDRESS.fullmatch(email):
        return "not a deliverable address"
    return None


def display_name(name: str) -> str:
    return clean_text(name)[:MAX_NAME_LENGTH].strip()


def _qp(data: bytes) -> bytes:
    """Quoted-printable with CRLF line ends and trailing white space encoded, without a final break.

    The C encoder picks CRLF only when the data's first line ends in CRLF, hence the added one."""
    return binascii.b2a_qp(data + CRLF, istext=True)[:-2]


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


@dataclass(frozen=True, slots=True)
class _Body:
    """One text part cut at its placeholders: encoded static pieces, and the placeholder between
    each piece and the next."""

    pieces: tuple[bytes, ...]
    slots: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> _Body:
        parts = _PLACEHOLDERS.split(_crlf(text))
        return cls(
            pieces=tuple(_qp(part.encode("utf-8")) for part in parts[0::2]),
            slots=tuple(parts[1::2]),
        )

    def fill(self, values: dict[str, bytes], out: list[bytes]) -> None:
        pieces = self.pieces
        out.append(pieces[0])
        for index, slot in enumerate(self.slots, 1):
            if not out[-1].endswith(CRLF):
                out.append(SOFT_BREAK)
            value = values[slot]
            if value:
                out.append(value)
                out.append(SOFT_BREAK)
            out.append(pieces[index])


def _fold(name: str, value: str | Address) -> bytes:
    """A header folded and RFC 2047-encoded by the email package, once per issue."""
    if isinstance(value, str):
        value = clean_text(value)
    return _SMTP.header_factory(name, value).fold(policy=_SMTP).encode("ascii")


def _address(setting: str, value: str) -> Address:
    name, addr = parseaddr(value)
    try:
        return Address(display_name=display_name(name), addr_spec=addr)
    except (ValueError, IndexError):
        raise ConfigError(f"{setting}: {value!r} is not a valid address") from None


def list_slug(newsletter: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", newsletter).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "digest"


def _mailto(settings: Settings) -> str:
    """The List-Unsubscribe mailto URI with {token} where the token goes."""
    configured = settings.unsubscribe_mailto.strip()
    if not configured:
        return f"mailto:{settings.from_address}?subject=unsubscribe%20{{token}}"
    uri = configured if configured.lower().startswith("mailto:") else f"mailto:{configured}"
    if "{token}" in uri:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}subject=unsubscribe%20{{token}}"


def _check_uri(setting: str, uri: str) -> str:
    if _URL_UNSAFE.search(uri.replace("{token}", "")):
        raise ConfigError(f"{setting}: {uri!r} holds spaces, quotes, <, > or non-ASCII characters")
    return uri


def _load_dkim_key(settings: Settings) -> bytes | None:
    wanted = (settings.dkim_key_file, settings.dkim_selector, settings.dkim_domain)
    if not any(wanted):
        return None
    if not all(wanted):
        raise ConfigError(
            "DIGEST_DKIM_KEY_FILE, DIGEST_DKIM_SELECTOR and DIGEST_DKIM_DOMAIN: "
            "set all three to sign, or none"
        )
    path = Path(str(settings.dkim_key_file))
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"DIGEST_DKIM_KEY_FILE: cannot read {path} ({exc.strerror})") from None
    if b"PRIVATE KEY" not in key:
        raise ConfigError(f"DIGEST_DKIM_KEY_FILE: {path} is not a PEM private key")
    return key


def dkim_signed(message: bytes, settings: Settings) -> bytes:
    """`message` with a DKIM-Signature when DKIM is configured, for mail built outside a
    MessageTemplate (a sign-up's confirmation)."""
    key = _load_dkim_key(settings)
    if key is None:
        return message
    headers = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version"]
    signature = dkim.sign(
        message,
        settings.dkim_selector.encode("ascii"),
        settings.dkim_domain.encode("ascii"),
        key,
        include_headers=[*headers, b"content-type"],
    )
    return signature + message


_SIGNING = frozenset({"dkim_key", "dkim_selector", "dkim_domain"})


def _plain(value: object) -> object:
    """A template's field as JSON: bytes as base64, a body as its pieces and slots."""
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, _Body):
        return {"pieces": [_plain(piece) for piece in value.pieces], "slots": list(value.slots)}
    return value


def _unplain(value: object) -> object:
    if isinstance(value, dict) and "base64" in value:
        return base64.b64decode(value["base64"])
    if isinstance(value, dict) and "pieces" in value:
        pieces = tuple(base64.b64decode(piece["base64"]) for piece in value["pieces"])
        return _Body(pieces=pieces, slots=tuple(value["slots"]))
    return value


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """One issue's message, encoded once; `personalise` makes each reader's copy in microseconds."""

    envelope_from: str
    head: bytes
    """Headers shared by every reader (From, Reply-To, Subject, Date, MIME-Version, List-Id)."""
    tail: bytes
    """List-Unsubscribe-Post, Content-Type and the first part's MIME headers."""
    between: bytes
    """From the end of the text part to the start of the HTML part's body."""
    end: bytes
    text: _Body
    html: _Body
    https_unsubscribe: str
    mailto_unsubscribe: str
    message_id_seed: bytes
    message_id_prefix: str
    message_id_domain: str
    dkim_key: bytes | None = None
    dkim_selector: bytes = b""
    dkim_domain: bytes = b""

    def message_id(self, email: str) -> str:
        """The same for the same issue and reader on every run, so a rare repeat is recognisable."""
        digest = hashlib.blake2b(
            self.message_id_seed + email.strip().lower().encode("utf-8"), digest_size=16
        ).hexdigest()
        return f"<{self.message_id_prefix}.{digest}@{self.message_id_domain}>"

    def stored(self) -> str:
        """The template as JSON for the state database, so senders on other machines send the
        very same message. Without the DKIM key, a secret: each sender signs with its own
        DIGEST_DKIM_* settings (`from_stored`)."""
        return json.dumps(
            {
                field.name: _plain(getattr(self, field.name))
                for field in fields(self)
                if field.name not in _SIGNING
            }
        )

    @classmethod
    def from_stored(cls, data: str, settings: Settings) -> MessageTemplate:
        """A template from `stored`, signed with this process's DKIM settings."""
        values = {name: _unplain(value) for name, value in json.loads(data).items()}
        return cls(
            **values,
            dkim_key=_load_dkim_key(settings),
            dkim_selector=settings.dkim_selector.encode("ascii"),
            dkim_domain=settings.dkim_domain.encode("ascii"),
        )

    def personalise(self, recipient: Recipient) -> bytes:
        """The complete message for one reader: RFC 5322, CRLF line ends, ready for SMTP DATA."""
        email = recipient.email.strip()
        problem = address_problem(email)
        if problem:
            raise DeliveryError(f"recipient {email!r}: {problem}")
        token = recipient.token
        if not token or _URL_UNSAFE.search(token):
            raise DeliveryError(
                f"recipient {email}: the unsubscribe token is empty or not URL-safe"
            )
        name = display_name(recipient.name)
        to = formataddr((name, email), charset="utf-8") if name else email
        mailto = self.mailto_unsubscribe.replace("{token}", token)
        https = self.https_unsubscribe.replace("{token}", token)
        headers = (
            f"To: {to}\r\nMessage-ID: {self.message_id(email)}\r\n"
            f"List-Unsubscribe: <{mailto}>,\r\n <{https}>\r\n"
        ).encode("ascii")
        encoded_token = token.encode("ascii")
        name_bytes = name.encode("utf-8")
        out = [self.head, headers, self.tail]
        self.text.fill({TOKEN_PLACEHOLDER: encoded_token, NAME_PLACEHOLDER: _qp(name_bytes)}, out)
        out.append(self.between)
        escaped = html.escape(name).encode("utf-8") if name else b""
        self.html.fill({TOKEN_PLACEHOLDER: encoded_token, NAME_PLACEHOLDER: _qp(escaped)}, out)
        out.append(self.end)
        message = b"".join(out)
        if self.dkim_key is not None:
            signature = dkim.sign(
                message,
                self.dkim_selector,
                self.dkim_domain,
                self.dkim_key,
                include_headers=list(DKIM_HEADERS),
            )
            message = signature + message
        return message


def compose(
    issue: Issue,
    rendered: RenderedEmail,
    settings: Settings,
    *,
    test_copy: bool = False,
    now: dt.datetime | None = None,
) -> MessageTemplate:
    """Encode the issue's message once. A test copy gets "[TEST]" before its subject and Message-IDs
    of its own, so a test sent to a reader never hides the real issue."""
    if TOKEN_PLACEHOLDER not in rendered.html and TOKEN_PLACEHOLDER not in rendered.text:
        raise BuildError(
            f"issue {issue.date.isoformat()}: the rendered email has no unsubscribe link "
            f"({TOKEN_PLACEHOLDER} is in neither part); check the templates' footer"
        )
    sender = _address("DIGEST_FROM", settings.mail_from)
    if not sender.display_name:
        sender = Address(display_name=display_name(settings.from_name), addr_spec=sender.addr_spec)
    reply_to = _address("DIGEST_REPLY_TO", settings.reply_to) if settings.reply_to else sender
    domain = settings.message_id_domain.strip() or sender.domain
    if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        raise ConfigError(f"DIGEST_MESSAGE_ID_DOMAIN: {domain!r} is not a domain name")
    slug = list_slug(settings.newsletter_name)
    subject = f"[TEST] {issue.subject}" if test_copy else issue.subject
    now = now or dt.datetime.now(dt.UTC)
    list_id = formataddr((display_name(settings.newsletter_name), f"{slug}.{domain}"), "utf-8")
    head = b"".join(
        [
            _fold("From", sender),
            _fold("Reply-To", reply_to),
            _fold("Subject", subject),
            f"Date: {formatdate(now.timestamp(), usegmt=True)}\r\n".encode("ascii"),
            b"MIME-Version: 1.0\r\n",
            f"List-Id: {list_id}\r\n".encode("ascii"),
        ]
    )
    body_text = _crlf(rendered.text).encode("utf-8")
    body_html = _crlf(rendered.html).encode("utf-8")
    boundary = "=_digest_" + hashlib.sha256(body_text + b"\0" + body_html).hexdigest()[:32]
    part = (
        "Content-Type: text/{}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    tail = (
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
        "\r\n"
        "This is a multi-part message in MIME format.\r\n"
        f"--{boundary}\r\n" + part.format("plain")
    ).encode("ascii")
    between = f"\r\n--{boundary}\r\n{part.format('html')}".encode("ascii")
    end = f"\r\n--{boundary}--\r\n".encode("ascii")
    seed = f"{slug}\0{issue.date.isoformat()}\0"
    if test_copy:
        seed += f"test {now.isoformat()}\0"
    key = _load_dkim_key(settings)
    return MessageTemplate(
        envelope_from=sender.addr_spec,
        head=head,
        tail=tail,
        between=between,
        end=end,
        text=_Body.of(rendered.text),
        html=_Body.of(_LINE_START_DOT.sub(" .", rendered.html)),
        https_unsubscribe=_check_uri("DIGEST_UNSUBSCRIBE_URL", settings.unsubscribe_url),
        mailto_unsubscribe=_check_uri("DIGEST_UNSUBSCRIBE_MAILTO", _mailto(settings)),
        message_id_seed=seed.encode("utf-8"),
        message_id_prefix=("test." if test_copy else "") + issue.date.strftime("%Y%m%d"),
        message_id_domain=domain.lower(),
        dkim_key=key,
        dkim_selector=settings.dkim_selector.encode("ascii"),
        dkim_domain=settings.dkim_domain.encode("ascii"),
    )
