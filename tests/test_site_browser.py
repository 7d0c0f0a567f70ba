"""A new reader in Chromium (375 px wide, JavaScript off): subscribes on the site, confirms from
the email that reaches the SMTP server, receives the next issue `digest send` sends, and leaves
with the link in it, without anyone touching a file."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page

from digest.audience.store import ACTIVE, UNSUBSCRIBED
from tests.support.site import link, running_site
from tests.test_site import send_issue_now, status_of


def fits(page: Page) -> bool:
    """No sideways scrolling at the page's width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_subscribe_confirm_receive_and_leave_in_a_browser(
    browser: Browser, database_url: str, isolated_environment: Path
) -> None:
    with running_site(isolated_environment, database_url) as site:
        context = browser.new_context(
            viewport={"width": 375, "height": 800}, java_script_enabled=False
        )
        page = context.new_page()
        try:
            page.goto(f"{site.url}/subscribe")
            assert page.locator("html").get_attribute("lang") == "en"
            assert fits(page)
            page.get_by_label("Email address").fill("reader@example.com")
            page.get_by_label("Name (optional)").fill("Reader")
            honeypot = page.locator("#website").bounding_box()
            assert honeypot is None or honeypot["x"] + honeypot["width"] <= 0
            page.get_by_role("button", name="Subscribe").click()
            assert page.get_by_role("heading", name="Check your mailbox").is_visible()

            confirm_url = link(site.mail_to("reader@example.com")[0], r"http://\S+/confirm/\S+")
            page.goto(confirm_url)
            assert "r•••@example.com" in page.content() and fits(page)
            assert status_of(site, "reader@example.com") != ACTIVE
            page.get_by_role("button", name="Yes, subscribe me").click()
            assert page.get_by_role("heading", name="You are subscribed").is_visible()
            assert status_of(site, "reader@example.com") == ACTIVE

            send_issue_now(site)
            issue = next(
                message
                for message in site.mail_to("reader@example.com", 3)
                if message["Subject"] == "The Harbour Post: talks resume"
            )
            html = issue.get_body(("html",)).get_content()
            unsubscribe = re.search(r'href="(http://127\.0\.0\.1:\d+/unsubscribe/[^"]+)"', html)
            assert unsubscribe, html
            page.goto(unsubscribe.group(1))
            assert fits(page)
            assert status_of(site, "reader@example.com") == ACTIVE
            page.get_by_role("button", name="Unsubscribe").click()
            assert page.get_by_role("heading", name="You have unsubscribed").is_visible()
            assert page.get_by_role("button", name="Subscribe again").is_visible()
            assert status_of(site, "reader@example.com") == UNSUBSCRIBED

            page.goto(f"{site.url}/")
            page.get_by_role("link", name=re.compile("talks resume")).click()
            assert page.url == f"{site.url}/issues/2026-11-26/"
            assert "talks resume" in page.title()
        finally:
            context.close()
