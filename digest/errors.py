"""The one exception hierarchy. The library raises these; only the CLI turns them into text."""


class DigestError(Exception):
    """Base of every error digest reports to a user; its message is one line."""

    exit_code = 1


class ConfigError(DigestError):
    """A setting is missing or has a value of the wrong kind."""

    exit_code = 2


class SourceError(DigestError):
    """A source (feed, page, curated file) could not be read or parsed."""

    exit_code = 3


class Unreachable(SourceError):
    """The network gave no answer (cannot connect, timed out, dropped): nothing is known about
    the resource itself, unlike a 404 or a page that is not a feed."""


class Refused(SourceError):
    """The fetch policy kept a URL from content away from a non-public address (see
    `digest.http.policy`)."""


class BuildError(DigestError):
    """An issue could not be composed or rendered (no stories, a template error)."""

    exit_code = 4


class NoNewStories(BuildError):
    """Every story the sources gave was already in an earlier issue: a quiet day, not a fault."""


class DeliveryError(DigestError):
    """Sending failed in a way that stops the run (cannot connect, bad credentials)."""

    exit_code = 5


class MailboxError(DigestError):
    """The bounce mailbox cannot be read or marked (cannot connect, login refused, no folder)."""

    exit_code = 6
