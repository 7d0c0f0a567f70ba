"""The mailbox as a local Maildir (as Postfix, Exim or Dovecot deliver into it).

A handled message keeps its bytes and gets the $DigestHandled keyword in its file name, where
Dovecot keeps keywords (a lowercase letter mapped to the keyword in `dovecot-keywords`), so an IMAP
client reading the same Maildir through Dovecot sees the same mark as `digest mailbox` over IMAP;
with DIGEST_MAILBOX_DONE_FOLDER it is moved into that Maildir++ folder (`.Done/`) instead. Both are
one rename, so a message is never half moved."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from digest.audience.mailbox.folders import KEYWORD, MAX_MESSAGE_BYTES, Letter
from digest.errors import MailboxError

KEYWORDS_FILE = "dovecot-keywords"
INFO = ":2,"


def _flags(name: str) -> str:
    return name.partition(INFO)[2]


class MaildirMailbox:
    """One Maildir folder, for one pass."""

    def __init__(self, path: Path, *, done_folder: str = "") -> None:
        self.root = path
        self.shown = str(path)
        self.done_folder = done_folder
        self.generation = "maildir"
        self._found: dict[str, Path] = {}

    def __enter__(self) -> MaildirMailbox:
        if not all((self.root / sub).is_dir() for sub in ("cur", "new", "tmp")):
            raise MailboxError(f"mailbox {self.shown}: not a Maildir (it needs cur/, new/, tmp/)")
        if self.done_folder and any(char in self.done_folder for char in "/\\\0"):
            raise MailboxError(
                f"DIGEST_MAILBOX_DONE_FOLDER: {self.done_folder!r} is not a Maildir++ folder name"
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def _keywords(self) -> dict[str, int]:
        path = self.root / KEYWORDS_FILE
        try:
            lines = path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise MailboxError(f"mailbox {self.shown}: cannot read {path} ({exc})") from None
        found: dict[str, int] = {}
        for line in lines:
            number, _, name = line.partition(" ")
            if number.isdigit() and name:
                found[name] = int(number)
        return found

    def _letter(self, *, create: bool) -> str | None:
        """The flag letter Dovecot uses for KEYWORD here; assigned (and written) when `create`."""
        keywords = self._keywords()
        if KEYWORD not in keywords:
            if not create:
                return None
            free = [n for n in range(26) if n not in keywords.values()]
            if not free:
                raise MailboxError(
                    f"mailbox {self.shown}: all 26 keywords of {KEYWORDS_FILE} are taken; set "
                    "DIGEST_MAILBOX_DONE_FOLDER to move handled messages instead"
                )
            keywords[KEYWORD] = free[0]
            text = "".join(
                f"{n} {name}\n" for name, n in sorted(keywords.items(), key=lambda i: i[1])
            )
            _write_atomically(self.root / KEYWORDS_FILE, text)
        return chr(ord("a") + keywords[KEYWORD])

    def unhandled(self) -> list[str]:
        """The unique names of every message without the keyword: new/ first, then cur/, each in
        name order, as the folder is now (a message marked meanwhile moves into cur/)."""
        letter = self._letter(create=False)
        self._found = {}
        for sub in ("new", "cur"):
            try:
                entries = sorted(os.scandir(self.root / sub), key=lambda entry: entry.name)
            except OSError as exc:
                raise MailboxError(f"mailbox {self.shown}: cannot list {sub}/ ({exc})") from None
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                if letter is not None and letter in _flags(entry.name):
                    continue
                self._found.setdefault(entry.name.partition(INFO)[0], Path(entry.path))
        return list(self._found)

    def fetch(self, keys: list[str]) -> Iterator[Letter]:
        """The messages of `keys` (unique names from `unhandled`); one a mail client moved or
        deleted meanwhile is skipped."""
        for key in keys:
            path = self._found.get(key)
            if path is None:
                continue
            raw = self._read(path)
            if raw is not None or path.exists():
                yield Letter(key, raw)

    def _read(self, path: Path) -> bytes | None:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_MESSAGE_BYTES + 1)
        except FileNotFoundError:
            return None  # moved or deleted by a mail client since the folder was listed
        except OSError as exc:
            raise MailboxError(f"mailbox {self.shown}: cannot read {path.name} ({exc})") from None
        return raw if len(raw) <= MAX_MESSAGE_BYTES else None

    def mark_handled(self, letter: Letter) -> None:
        source = self._found.get(letter.key)
        if source is None:
            return
        name = source.name
        unique = name.partition(INFO)[0]
        flags = set(_flags(name))
        if self.done_folder:
            target_root = self.root / f".{self.done_folder}"
            _make_maildir(target_root, self.root)
        else:
            target_root = self.root
            flags.add(self._letter(create=True) or "")
        target = target_root / "cur" / f"{unique}{INFO}{''.join(sorted(flags))}"
        try:
            os.rename(source, target)
        except FileNotFoundError:
            return  # moved or deleted by a mail client since this pass read it
        except OSError as exc:
            raise MailboxError(f"mailbox {self.shown}: cannot mark {name} ({exc})") from None


def _make_maildir(root: Path, like: Path) -> None:
    """A Maildir++ folder owned like `like` (the mailbox), so the mail server can use it."""
    try:
        owner = like.stat()
        for path in (root, root / "cur", root / "new", root / "tmp", root / "maildirfolder"):
            if path.exists():
                continue
            if path.name == "maildirfolder":
                path.touch()
            else:
                path.mkdir(mode=stat.S_IMODE(owner.st_mode))
            if os.geteuid() == 0:
                os.chown(path, owner.st_uid, owner.st_gid)
    except OSError as exc:
        raise MailboxError(f"mailbox: cannot create the folder {root} ({exc})") from None


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path`, keeping the mode and owner the mail server gave the folder's files."""
    like = path if path.exists() else path.parent / "cur"
    try:
        mode = stat.S_IMODE(like.stat().st_mode) & 0o666
        owner = like.stat()
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)
        if os.geteuid() == 0:
            os.chown(temporary, owner.st_uid, owner.st_gid)
        os.replace(temporary, path)
    except OSError as exc:
        raise MailboxError(f"mailbox: cannot write {path} ({exc})") from None
