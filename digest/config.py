"""Settings: the only place that reads the environment (and `.env`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import re
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from digest.audience.address import normalise_address
from digest.audience.mailbox.location import parse_location
from digest.audience.mailbox.verp import check_bounce_address
from digest.errors import ConfigError
from digest.models import LANGUAGE_TAG
from digest.page_profiles import PageProfile, read_page_profiles
from digest.timing import cron_trigger, describe_duration, parse_duration

ENV_PREFIX = "DIGEST_"
LEASE_PER_TIMEOUT = 6
"""DIGEST_SEND_LEASE must be at least this many DIGEST_SMTP_TIMEOUTs (3 × the handover margin)."""
_SQLITE_FILE = re.compile(r"sqlite(?:\+\w+)?:///([^?]+)")


class Settings(BaseSettings):
    """Every setting of digest; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
        validate_default=True,
    )

    sources: Annotated[list[str], NoDecode] = Field(default_factory=list)
    issues_dir: Path = Path("issues")
    newsletter_name: str = Field(default="The Daily Digest", min_length=1)
    language: str | None = Field(default=None, pattern=LANGUAGE_TAG)
    """The issue's language; None: the language its stories' sources declare (English if none)."""
    subject: str = "{name}: {title}"
    more_count: int = Field(default=4, ge=0, le=50)
    lead_teaser_words: int = Field(default=60, ge=5, le=500)
    item_teaser_words: int = Field(default=35, ge=5, le=500)
    mail_from: str = Field(
        default="The Daily Digest <digest@example.com>",
        validation_alias=AliasChoices("DIGEST_FROM", "mail_from"),
    )
    reply_to: str = ""
    postal_address: str = "Digest Media, 1 Example Street, Springfield, USA"
    unsubscribe_url: str = "https://example.com/unsubscribe?token={token}"
    unsubscribe_mailto: str = ""
    view_online_url: str = "https://example.com/issues/{date}/"
    templates_dir: Path | None = None
    timezone: str = "UTC"
    fetch_timeout: float = Field(default=15.0, gt=0, le=300)
    fetch_max_bytes: int = Field(default=10_000_000, ge=1_000, le=500_000_000)
    # The web (digest/http.py, page sources, enrichment, remote images).
    fetch_connect_timeout: float = Field(default=5.0, gt=0, le=120)
    fetch_deadline: float = Field(default=60.0, gt=0, le=3600)
    fetch_retries: int = Field(default=2, ge=0, le=10)
    fetch_retry_delay: float = Field(default=1.0, ge=0, le=300)
    fetch_retry_after_max: float = Field(default=60.0, ge=0, le=3600)
    fetch_concurrency: int = Field(default=8, ge=1, le=64)
    fetch_per_host: int = Field(default=2, ge=1, le=16)
    contact_url: str = "https://github.com/digest-newsletter/digest"
    cache_dir: Path | None = Path(".digest-cache")
    enrich_min_words: int = Field(default=60, ge=0, le=5000)
    fetch_allow_private: Annotated[list[str], NoDecode] = Field(default_factory=list)
    fetch_sources_only: bool = False
    page_profiles: Annotated[dict[str, PageProfile], NoDecode] = Field(default_factory=dict)
    # Sending (digest send): subscribers, signing, the state database, SMTP and DKIM.
    subscribers: Path | None = None
    suppressions: Path | None = None
    secret_key: SecretStr = SecretStr("")
    secret_key_previous: SecretStr = SecretStr("")
    message_id_domain: str = ""
    state_url: str = ""
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=0, ge=0, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_allow_insecure: bool = False
    smtp_ca_file: Path | None = None
    smtp_connections: int = Field(default=4, ge=1, le=64)
    smtp_rate: float = Field(default=0.0, ge=0)
    smtp_timeout: float = Field(default=30.0, gt=0, le=600)
    smtp_max_attempts: int = Field(default=5, ge=1, le=100)
    smtp_retry_delay: float = Field(default=2.0, ge=0, le=600)
    # Claims: each sender takes this many pending rows at a time, for this long (renewed while it
    # lives); see digest/state/claims.py. `digest send` runs send_workers processes (0: one per
    # core).
    send_batch: int = Field(default=500, ge=1, le=100_000)
    send_workers: int = Field(default=0, ge=0, le=256)
    send_lease: float = Field(default=300.0, ge=1, le=86_400)
    dkim_key_file: Path | None = None
    dkim_selector: str = ""
    dkim_domain: str = ""
    # Scheduled runs (digest schedule); see digest/schedule/.
    schedule: str = "0 6 * * *"
    schedule_mode: Literal["send", "preview"] = "send"
    misfire_grace: float = Field(default=3600.0, ge=1)
    send_late: bool = False
    skip_if_no_new: bool = True
    run_retries: int = Field(default=2, ge=0, le=20)
    run_retry_delay: float = Field(default=60.0, ge=0, le=3600)
    alert_to: str = ""
    # The editor's desk (digest serve): where it listens; a password is required off loopback.
    serve_host: str = Field(default="127.0.0.1", min_length=1)
    serve_port: int = Field(default=8025, ge=1, le=65535)
    serve_password: SecretStr = SecretStr("")
    serve_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The public site (digest site): sign-up, confirm, unsubscribe, archive; see digest/site/.
    site_url: str = ""
    site_host: str = Field(default="127.0.0.1", min_length=1)
    site_port: int = Field(default=8030, ge=1, le=65535)
    site_workers: int = Field(default=1, ge=1, le=64)
    site_trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"]
    )
    consent_text: str = Field(default="", max_length=2000)
    confirm_hours: float = Field(default=48.0, gt=0, le=24 * 90)
    confirm_resend_minutes: float = Field(default=30.0, ge=0, le=24 * 60)
    unconfirmed_days: float = Field(default=30.0, gt=0, le=3650)
    signups_per_ip: int = Field(default=20, ge=1, le=1_000_000)
    signup_min_seconds: float = Field(default=3.0, ge=0, le=600)
    welcome_email: bool = True
    # The bounce mailbox (digest mailbox): bounces, complaints, mailto unsubscribes; VERP.
    mailbox_url: SecretStr = SecretStr("")
    mailbox_ca_file: Path | None = None
    mailbox_done_folder: str = Field(default="", max_length=200)
    mailbox_interval: float = Field(default=900.0, ge=1)
    soft_bounce_limit: int = Field(default=3, ge=1, le=100)
    bounce_address: str = ""

    @field_validator(
        "subscribers",
        "suppressions",
        "smtp_ca_file",
        "mailbox_ca_file",
        "dkim_key_file",
        "cache_dir",
        "language",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("sources", mode="before")
    @classmethod
    def _split_sources(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"not a valid JSON list ({exc.msg})") from None
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("serve_password")
    @classmethod
    def _check_password(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and not secret.strip():
            raise ValueError("only blank spaces: set a real password, or none to stay on loopback")
        return value

    @field_validator("site_trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().lower() == "none":
                return []
            return [part.strip() for part in value.replace(" ", ",").split(",") if part.strip()]
        return value

    @field_validator("site_trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)"
                ) from None
        return value

    @field_validator("site_url")
    @classmethod
    def _check_site_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return value
        parts = urlsplit(value)
        if parts.query or parts.fragment or not _served_url(value):
            raise ValueError(
                "expected the site's public https:// address, e.g. https://news.example.com "
                "(http:// only on loopback)"
            )
        return value

    @field_validator("fetch_allow_private", "serve_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        parts = value.split(",") if isinstance(value, str) else value
        return [_allowed_host(part) for part in parts if part.strip()]

    @field_validator("page_profiles", mode="before")
    @classmethod
    def _read_page_profiles(cls, value: Any) -> Any:
        return read_page_profiles(value) if isinstance(value, str) else value

    @field_validator("contact_url")
    @classmethod
    def _check_contact_url(cls, value: str) -> str:
        web = value.startswith(("https://", "http://", "mailto:"))
        if not web or any(char in value for char in " \r\n"):
            raise ValueError("expected an http(s) or mailto: URL where publishers can reach you")
        return value

    @field_validator("subject")
    @classmethod
    def _check_subject(cls, value: str) -> str:
        if not _formats(value, name="", title="", date=dt.date(2000, 1, 1)):
            raise ValueError("expected text with only {name}, {title} and {date} in braces")
        return value

    @field_validator("mail_from")
    @classmethod
    def _check_from(cls, value: str) -> str:
        address = parseaddr(value)[1]
        if "@" not in address or any(c in value for c in "\r\n"):
            raise ValueError("expected an address such as 'Name <news@example.com>'")
        return value

    @field_validator("unsubscribe_url")
    @classmethod
    def _check_unsubscribe(cls, value: str) -> str:
        web = _served_url(value) and "{token}" in value
        if not web or not _formats(value, token=""):
            raise ValueError(
                "expected an https:// URL (http:// only on loopback) holding {token} and no "
                "other braces"
            )
        return value

    @field_validator("view_online_url")
    @classmethod
    def _check_view_online(cls, value: str) -> str:
        if not value:
            return value
        web = value.startswith(("https://", "http://")) and "{date}" in value
        if not web or not _formats(value, date=""):
            raise ValueError(
                "expected an http(s) URL holding {date} and no other braces (the archive's "
                "pages are public: no {token} in them)"
            )
        return value

    @field_validator("issues_dir")
    @classmethod
    def _check_issues_dir(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError("expected a folder (or a name for one), not a file")
        return value

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        cron_trigger(value, ZoneInfo("UTC"))
        return " ".join(value.split())

    @field_validator("misfire_grace", "mailbox_interval", "send_lease", mode="before")
    @classmethod
    def _parse_durations(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("mailbox_url")
    @classmethod
    def _check_mailbox_url(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip():
            parse_location(value.get_secret_value())
        return value

    @field_validator("mailbox_done_folder")
    @classmethod
    def _check_done_folder(cls, value: str) -> str:
        if any(char in value for char in '\r\n\0"*%'):
            raise ValueError("expected a folder name such as Done or Bounces/Handled")
        return value.strip()

    @field_validator("bounce_address")
    @classmethod
    def _check_bounce_address(cls, value: str) -> str:
        return check_bounce_address(value) if value.strip() else ""

    @field_validator("alert_to")
    @classmethod
    def _check_alert_to(cls, value: str) -> str:
        for address in filter(None, (part.strip() for part in value.split(","))):
            if "@" not in parseaddr(address)[1] or any(c in address for c in "\r\n"):
                raise ValueError("expected addresses separated by commas, e.g. ops@example.com")
            try:
                normalise_address(parseaddr(address)[1])
            except ValueError as exc:
                raise ValueError(f"{address!r}: {exc}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as 'Europe/London'") from None
        return value

    @model_validator(mode="after")
    def _links_to_the_site(self) -> Settings:
        """With DIGEST_SITE_URL set, the links in mail go to the site unless set otherwise."""
        if self.site_url:
            if "unsubscribe_url" not in self.model_fields_set:
                self.unsubscribe_url = f"{self.site_url}/unsubscribe/{{token}}"
            if "view_online_url" not in self.model_fields_set:
                self.view_online_url = f"{self.site_url}/issues/{{date}}/"
        return self

    @model_validator(mode="after")
    def _check_unconfirmed_days(self) -> Settings:
        if self.unconfirmed_days * 24 <= self.confirm_hours:
            raise ValueError(
                f"DIGEST_UNCONFIRMED_DAYS: {self.unconfirmed_days:g} days is not longer than a "
                f"confirmation link works (DIGEST_CONFIRM_HOURS={self.confirm_hours:g}); an "
                "unconfirmed sign-up must outlive its link"
            )
        return self

    @model_validator(mode="after")
    def _check_lease(self) -> Settings:
        if self.send_lease < LEASE_PER_TIMEOUT * self.smtp_timeout:
            raise ValueError(
                f"DIGEST_SEND_LEASE: {describe_duration(self.send_lease)} is too short for "
                f"DIGEST_SMTP_TIMEOUT={self.smtp_timeout:g}s; give it at least "
                f"{LEASE_PER_TIMEOUT} times the timeout, so every message handed to the relay is "
                "answered well within its lease"
            )
        return self

    @property
    def handover_margin(self) -> float:
        """How long before its lease ends a sender stops handing rows to the relay: a
        transaction may take a timeout for its commands and another for its reply to DATA."""
        return 2 * self.smtp_timeout

    @property
    def state_database_url(self) -> str:
        """DIGEST_STATE_URL, or SQLite's `state.db` beside the issues folder."""
        if self.state_url.strip():
            return self.state_url.strip()
        return f"sqlite:///{self.issues_dir.resolve().parent / 'state.db'}"

    @property
    def state_database_file(self) -> Path | None:
        """The SQLite state database's file; None for a database server or one in memory."""
        found = _SQLITE_FILE.match(self.state_database_url)
        return Path(found[1]) if found and found[1] != ":memory:" else None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def from_address(self) -> str:
        return parseaddr(self.mail_from)[1]

    @property
    def from_name(self) -> str:
        return parseaddr(self.mail_from)[0] or self.newsletter_name

    @property
    def from_domain(self) -> str:
        return self.from_address.rpartition("@")[2]


def _served_url(url: str) -> bool:
    """An https URL, or http on a loopback host (a site tried out on this machine)."""
    parts = urlsplit(url)
    if not parts.hostname or any(char in url for char in " \r\n\t<>\"'"):
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _formats(template: str, **fields: Any) -> bool:
    """Whether `template.format(**fields)` works: only those names in braces, none left open."""
    try:
        template.format(**fields)
    except (KeyError, IndexError, ValueError, AttributeError):
        return False
    return True


def _allowed_host(entry: str) -> str:
    """A DIGEST_FETCH_ALLOW_PRIVATE or DIGEST_SERVE_ALLOWED_HOSTS entry as `FetchPolicy`
    (digest/http/policy.py) and the desk's Host check compare it: lower-case, IDNA-encoded, IPv6
    without brackets, `*.` kept for "every subdomain"."""
    text = entry.strip().lower().rstrip(".")
    name = text.removeprefix("*.")
    wildcard = name != text
    with contextlib.suppress(ValueError):
        if not wildcard:
            return str(ipaddress.ip_address(name.strip("[]")))
    problem = ValueError(f"{entry.strip()!r} is not a host name (no scheme, port or path)")
    if not name or any(char in name for char in "*:/?#@[]\\ "):
        raise problem
    try:
        host = httpx.URL(f"http://{name}/").raw_host.decode("ascii")
    except httpx.InvalidURL:
        raise problem from None
    return f"*.{host}" if wildcard else host


def _env_name(loc: tuple[Any, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    if field.upper().startswith(ENV_PREFIX):
        return field.upper()
    alias = {"mail_from": "FROM"}.get(field, field.upper())
    return ENV_PREFIX + alias


_SECRET_FIELDS = frozenset(
    name for name, field in Settings.model_fields.items() if field.annotation is SecretStr
)
"""Settings whose value never appears in an error (a password, a key, a URL holding one)."""


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning pydantic's report into one line per wrong setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            got = error.get("input")
            secret = bool(error["loc"]) and str(error["loc"][0]) in _SECRET_FIELDS
            shown = f" (got {got!r})" if isinstance(got, str | int | float) and not secret else ""
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:  # a check across settings names them in its message
                lines.append(message)
                continue
            lines.append(f"{_env_name(error['loc'])}: {message}{shown}")
        raise ConfigError("; ".join(lines)) from None
