"""The email DIGEST_ALERT_TO gets when a scheduled run fails for good."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, getaddresses, make_msgid

from digest.audience.address import normalise_address
from digest.config import Settings
from digest.deliver.smtp import Outgoing, Result, SmtpSender
from digest.errors import DigestError
from digest.schedule.runs import RunOutcome
from digest.schedule.times import next_run_times, show_time

log = logging.getLogger("digest.schedule")


def send_alert(settings: Settings, outcome: RunOutcome, scheduled_for: dt.datetime | None) -> None:
    """Email DIGEST_ALERT_TO through the configured SMTP relay; a failed alert is logged, never
    raised, since the run has already failed and the scheduler must go on."""
    # Checked when the settings were read; an internationalised domain goes in its xn-- form.
    recipients = [
        normalise_address(address) for _, address in getaddresses([settings.alert_to]) if address
    ]
    if not recipients:
        return
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"[{settings.newsletter_name}] scheduled run failed: issue {outcome.issue}"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid("digest-alert", domain=settings.from_domain)
    due = (
        f"scheduled for {show_time(scheduled_for, settings.zone)}"
        if scheduled_for
        else "run by hand"
    )
    following = next_run_times(settings, 1)
    upcoming = show_time(following[0], settings.zone) if following else "none"
    message.set_content(
        f"The run of issue {outcome.issue} ({due}) failed on {socket.gethostname()} "
        f"(pid {os.getpid()}):\n\n  {outcome.detail}\n\n"
        f"The next scheduled run is {upcoming}.\n"
        f"To run it again now: digest schedule --once\n"
    )
    data = message.as_bytes(policy=SMTP)
    results: list[Result] = []
    try:
        sender = SmtpSender(settings, settings.from_address)
        outgoing = (
            Outgoing(number, address, data, message["Message-ID"])
            for number, address in enumerate(recipients)
        )
        sender.run(outgoing, results.append, threading.Event())
    except DigestError as exc:
        log.error("Alert to %s not sent: %s", ", ".join(recipients), exc)
        return
    for result in results:
        if result.accepted:
            log.info("Alert sent to %s", result.outgoing.recipient)
        else:
            log.error("Alert to %s not sent: %s", result.outgoing.recipient, result.reply)
