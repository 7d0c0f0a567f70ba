"""The archive pages: the index of sent issues, each issue's web copy (the "view in browser"
link), its images, and an Atom feed. The web copy is what `digest archive` publishes: the email's
HTML without token or name (digest.archive.public_html)."""

from __future__ import annotations

import datetime as dt

from feedgen.feed import FeedGenerator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from digest.archive import public_html
from digest.errors import BuildError
from digest.site.context import Site, site_of
from digest.site.guard import ISSUE_POLICY
from digest.site.published import PublishedIssue
from digest.store import image_file, issue_dir
from digest.wording import long_date

FEED_ENTRIES = 30


def _published(site: Site, request: Request) -> PublishedIssue:
    try:
        date = dt.date.fromisoformat(request.path_params["date"])
    except ValueError:
        raise HTTPException(404) from None
    found = site.published.find(site.settings, site.engine, date)
    if found is None:
        raise HTTPException(404)
    return found


async def index(request: Request) -> Response:
    site = site_of(request)
    issues = await run_in_threadpool(site.published.issues, site.settings, site.engine)
    language = site.language
    context = {
        "title": site.gettext("Archive"),
        "heading": site.gettext("All issues"),
        "issues": [
            {
                "date": item.date,
                "subject": item.subject,
                "date_text": long_date(item.date, language),
            }
            for item in issues
        ],
    }
    return site.page(request, "index.html", context)


async def issue_page(request: Request) -> Response:
    site = site_of(request)
    issue = await run_in_threadpool(_published, site, request)
    path = issue_dir(site.settings, issue.date) / "email.html"
    try:
        html = await run_in_threadpool(public_html, path)
    except (OSError, BuildError):
        raise HTTPException(404) from None
    return HTMLResponse(
        html,
        headers={"Content-Security-Policy": ISSUE_POLICY, "Cache-Control": "public, max-age=300"},
    )


async def image(request: Request) -> Response:
    site = site_of(request)
    issue = await run_in_threadpool(_published, site, request)
    path = image_file(issue_dir(site.settings, issue.date), request.path_params["name"])
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


def _atom(site: Site, issues: list[PublishedIssue]) -> bytes:
    settings = site.settings
    feed = FeedGenerator()
    feed.id(site.url("/"))
    feed.title(settings.newsletter_name)
    feed.link(href=site.url("/"), rel="alternate")
    feed.link(href=site.url("/feed.xml"), rel="self")
    feed.language(site.language)
    newest = issues[0].sent_at if issues else dt.datetime(2000, 1, 1)
    feed.updated(newest.replace(tzinfo=dt.UTC))
    for item in reversed(issues[:FEED_ENTRIES]):
        url = site.url(f"/issues/{item.date.isoformat()}/")
        entry = feed.add_entry()
        entry.id(url)
        entry.title(item.subject)
        entry.link(href=url, rel="alternate")
        entry.published(item.sent_at.replace(tzinfo=dt.UTC))
        entry.updated(item.sent_at.replace(tzinfo=dt.UTC))
        if item.preheader:
            entry.summary(item.preheader)
    return feed.atom_str(pretty=True)


async def feed(request: Request) -> Response:
    site = site_of(request)
    issues = await run_in_threadpool(site.published.issues, site.settings, site.engine)
    return Response(
        _atom(site, issues),
        media_type="application/atom+xml",
        headers={"Cache-Control": "public, max-age=300"},
    )
