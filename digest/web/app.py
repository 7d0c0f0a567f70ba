"""`digest serve`: the Starlette app of the editor's desk.

Safe by default for a tool that can send mail: it listens on loopback, answers only to the
configured Host (a DNS-rebinding page cannot reach it under another name), takes every write as a
POST carrying the app's CSRF token, and asks for DIGEST_SERVE_PASSWORD when one is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from watchfiles import awatch

from digest.audience.address import normalise_address
from digest.check import Finding, check_issue
from digest.config import Settings
from digest.deliver import send_test
from digest.errors import BuildError, DigestError
from digest.message import compose
from digest.models import Issue, Story
from digest.pipeline import sample_feed
from digest.prepare import view_online_url
from digest.render import default_templates_dir, render_email, web_url
from digest.select import story_keys
from digest.sources import gather
from digest.spamscore import spamassassin_available
from digest.store import ISSUE_FILE, image_file, issue_dir, load_issue
from digest.web.desk import (
    IssueEdit,
    StoryEdit,
    apply_edit,
    force_dark,
    issue_status,
    list_issues,
    message_headers,
    personalised_preview,
    save_issue,
    swap_story,
    version_of,
)
from digest.web.guard import BodyLimit, PasswordMiddleware, SecurityHeaders, allowed_hosts

log = logging.getLogger("digest.web")

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["web_url"] = web_url


@dataclass
class Desk:
    """The state of one running app: its secrets, caches and open live-reload streams."""

    settings: Settings
    spam: bool = True
    """Whether the findings include SpamAssassin's score (a second or two per new render)."""
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    render_lock: threading.Lock = field(default_factory=threading.Lock)
    errors: dict[dt.date, str] = field(default_factory=dict)
    """The last render error of each issue, shown on its page until a render succeeds."""
    rendered: dict[dt.date, str] = field(default_factory=dict)
    """The issue.json version each issue was last rendered from, so our own writes are not
    mistaken for an editor's."""
    findings: dict[tuple[dt.date, str], list[Finding]] = field(default_factory=dict)
    candidates: dict[dt.date, list[Story]] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    listeners: dict[asyncio.Queue[str | None], str] = field(default_factory=dict)
    viewed: set[dt.date] = field(default_factory=set)
    """Issues whose page was opened: a template change re-renders these (a page may be between
    two live-reload connections just then)."""

    def render(self, date: dt.date, change: Callable[[Issue], Issue] | None = None) -> float:
        """Apply `change` (if any) to the saved issue and re-render; record the outcome. Returns
        the seconds taken; raises DigestError (also kept in `errors` for the page)."""
        started = time.perf_counter()
        with self.render_lock:
            try:
                issue = load_issue(self.settings, date)
                if change is not None:
                    issue = change(issue)
                save_issue(self.settings, issue)
            except DigestError as exc:
                self.errors[date] = str(exc)
                self._remember(date)
                raise
            self.errors.pop(date, None)
            self._remember(date)
        return time.perf_counter() - started

    def _remember(self, date: dt.date) -> None:
        try:
            self.rendered[date] = version_of(self.settings, date)
        except FileNotFoundError:
            self.rendered.pop(date, None)

    def notice(self, text: str) -> str:
        key = secrets.token_urlsafe(8)
        self.notices[key] = text
        return key

    def broadcast(self, what: str) -> None:
        for queue in self.listeners:
            queue.put_nowait(what)


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _date(request: Request) -> dt.date:
    try:
        date = dt.date.fromisoformat(request.path_params["date"])
    except ValueError:
        raise HTTPException(404, "no such issue") from None
    if not (issue_dir(_desk(request).settings, date) / ISSUE_FILE).is_file():
        raise HTTPException(404, f"no issue for {date.isoformat()}")
    return date


async def _form(request: Request) -> FormData:
    """The posted form, read only once its Origin and its CSRF token pass. The token travels in
    the form's action URL, so it is checked (constant-time) before any of the body is read, and
    a forged upload of any size costs nothing."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = request.headers.get("host", "")
        if urlsplit(origin).netloc != expected:
            raise HTTPException(403, "cross-origin request refused")
    token = request.query_params.get("csrf", "").encode("utf-8")
    if not hmac.compare_digest(token, _desk(request).csrf.encode("utf-8")):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    return await request.form()


def _back(date: dt.date, desk: Desk, text: str) -> RedirectResponse:
    return RedirectResponse(f"/issues/{date.isoformat()}/?notice={desk.notice(text)}", 303)


async def index(request: Request) -> Response:
    desk = _desk(request)
    issues = await run_in_threadpool(list_issues, desk.settings)
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "issues": issues,
            "public": False,
            "static": "/static",
            "title": "Issues",
            "prefix": "/issues/",
        },
    )


async def issue_page(request: Request) -> Response:
    desk = _desk(request)
    date = _date(request)
    desk.viewed.add(date)
    folder = issue_dir(desk.settings, date)
    try:
        issue: Issue | None = load_issue(desk.settings, date)
    except DigestError as exc:
        desk.errors.setdefault(date, str(exc))
        issue = None
    text_path = folder / "email.txt"
    notice = desk.notices.pop(request.query_params.get("notice", ""), "")
    return templates.TemplateResponse(
        request,
        "issue.html",
        {
            "title": issue.subject if issue else date.isoformat(),
            "static": "/static",
            "public": False,
            "date": date,
            "issue": issue,
            "version": version_of(desk.settings, date),
            "error": desk.errors.get(date, ""),
            "notice": notice,
            "csrf": desk.csrf,
            "text": text_path.read_text(encoding="utf-8") if text_path.exists() else "",
            "headers": message_headers(desk.settings, date),
            "status": await run_in_threadpool(issue_status, desk.settings, date),
            "candidates": desk.candidates.get(date),
        },
    )


async def email_html(request: Request) -> Response:
    date = _date(request)
    path = issue_dir(_desk(request).settings, date) / "email.html"
    if not path.exists():
        raise HTTPException(404, "not rendered yet")
    html = personalised_preview(path.read_text(encoding="utf-8"), public=False)
    if request.query_params.get("scheme") == "dark":
        html = force_dark(html)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def image(request: Request) -> Response:
    date = _date(request)
    path = image_file(issue_dir(_desk(request).settings, date), request.path_params["name"])
    if path is None:
        raise HTTPException(404, "no such image")
    return FileResponse(path)


def _findings(desk: Desk, date: dt.date) -> list[Finding]:
    eml = issue_dir(desk.settings, date) / "email.eml"
    key = (date, hashlib.sha256(eml.read_bytes()).hexdigest() if eml.exists() else "")
    if key not in desk.findings:
        spam = desk.spam and spamassassin_available()
        desk.findings[key] = check_issue(desk.settings, date, spam=spam)
    return desk.findings[key]


async def findings(request: Request) -> Response:
    desk = _desk(request)
    date = _date(request)
    try:
        found = await run_in_threadpool(_findings, desk, date)
    except DigestError as exc:
        return HTMLResponse(f'<p class="finding error">{escape(str(exc))}</p>')
    return templates.TemplateResponse(request, "findings.html", {"findings": found})


def _edit_from(form: FormData, stories_now: int) -> IssueEdit:
    """The edit the form describes; `count` must be the issue's number of stories, since it sizes
    what is built here (a million took seconds and hundreds of megabytes)."""
    count = int(str(form.get("count", "0")))
    if count != stories_now:
        raise BuildError(
            f"the form lists {count} stories and the issue has {stories_now}; reload and try again"
        )
    stories = [
        StoryEdit(
            title=str(form.get(f"title-{i}", "")),
            teaser=str(form.get(f"teaser-{i}", "")),
            position=int(str(form.get(f"position-{i}", i)) or i),
            drop=form.get(f"drop-{i}") is not None,
        )
        for i in range(count)
    ]
    return IssueEdit(
        version=str(form.get("version", "")),
        subject=str(form.get("subject", "")),
        preheader=str(form.get("preheader", "")),
        lead=int(str(form.get("lead", "0"))),
        stories=stories,
    )


async def edit(request: Request) -> Response:
    desk = _desk(request)
    date = _date(request)
    form = await _form(request)
    try:
        change = _edit_from(form, len(load_issue(desk.settings, date).stories))
    except DigestError as exc:
        return _back(date, desk, f"error: {exc}")
    except (ValueError, ValidationError):
        return _back(date, desk, "error: the form was incomplete; reload and try again")
    if change.version != version_of(desk.settings, date):
        return _back(date, desk, "error: issue.json changed since this page loaded; reload first")
    try:
        seconds = await run_in_threadpool(desk.render, date, lambda i: apply_edit(i, change))
    except DigestError as exc:
        return _back(date, desk, f"error: {exc}")
    desk.broadcast(date.isoformat())
    return _back(date, desk, f"Saved and re-rendered in {seconds * 1000:.0f} ms.")


def _gather_candidates(desk: Desk, date: dt.date) -> list[Story]:
    settings = desk.settings
    issue = load_issue(settings, date)
    used = set().union(*(story_keys(story) for story in issue.stories))
    stories = gather(settings.sources or [sample_feed()], settings)
    return [story for story in stories if not story_keys(story) & used]


async def candidates(request: Request) -> Response:
    desk = _desk(request)
    date = _date(request)
    await _form(request)
    try:
        desk.candidates[date] = await run_in_threadpool(_gather_candidates, desk, date)
    except DigestError as exc:
        return _back(date, desk, f"error: {exc}")
    found = len(desk.candidates[date])
    return _back(date, desk, f"{found} other stories from the sources.")


async def swap(request: Request) -> Response:
    desk = _desk(request)
    date = _date(request)
    form = await _form(request)
    pool = desk.candidates.get(date) or []
    try:
        chosen = pool[int(str(form.get("candidate", "")))]
        position = int(str(form.get("position", "")))
    except (ValueError, IndexError):
        return _back(date, desk, "error: choose a candidate and a place; reload the candidates")
    try:
        await run_in_threadpool(
            desk.render, date, lambda i: swap_story(i, position, chosen, desk.settings)
        )
    except DigestError as exc:
        return _back(date, desk, f"error: {exc}")
    pool.remove(chosen)
    desk.broadcast(date.isoformat())
    return _back(date, desk, f"Swapped in {chosen.title!r}.")


def _send_test(settings: Settings, date: dt.date, address: str) -> str:
    issue = load_issue(settings, date)
    rendered = render_email(
        issue, settings, asset_base_url=view_online_url(issue, settings) or None
    )
    template = compose(issue, rendered, settings, test_copy=True)
    summary = send_test(settings, template, [address])
    if summary.sent == 1:
        return f"Test sent to {address}."
    return f"error: the test to {address} was not accepted ({summary.line})"


async def test_send(request: Request) -> Response:
    desk = _desk(request)
    date = _date(request)
    form = await _form(request)
    given = str(form.get("address", "")).strip()
    try:
        address = normalise_address(given)
    except ValueError as exc:
        return _back(date, desk, f"error: {given!r}: {exc}")
    try:
        result = await run_in_threadpool(_send_test, desk.settings, date, address)
    except DigestError as exc:
        result = f"error: test not sent: {exc}"
    return _back(date, desk, result)


async def events(request: Request) -> Response:
    """Server-sent events: the date of each issue that changed ("*" for all), for live reload."""
    desk = _desk(request)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    desk.listeners[queue] = request.query_params.get("date", "")

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 1000\n: connected\n\n"
            while (what := await queue.get()) is not None:
                yield f"event: change\ndata: {what}\n\n"
        finally:
            desk.listeners.pop(queue, None)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


def _template_dirs(settings: Settings) -> list[Path]:
    dirs = [default_templates_dir()]
    if settings.templates_dir is not None and settings.templates_dir.is_dir():
        dirs.append(settings.templates_dir)
    return [d.resolve() for d in dirs]


def _changed_issue(path: Path, issues: Path) -> dt.date | None:
    """The issue whose issue.json `path` is (not the staging folders of an atomic write)."""
    if path.name != ISSUE_FILE or path.parent.parent != issues:
        return None
    try:
        return dt.date.fromisoformat(path.parent.name)
    except ValueError:
        return None


async def watch(desk: Desk, stop: asyncio.Event) -> None:
    """Re-render what changed on disk and tell the open pages: an issue.json an editor saved (not
    our own writes), or a template (every issue whose page was opened)."""
    issues = desk.settings.issues_dir.resolve()
    template_dirs = _template_dirs(desk.settings)
    async for changes in awatch(issues, *template_dirs, stop_event=stop, debounce=50, step=20):
        paths = {Path(path) for _, path in changes}
        dates = set()
        for path in paths:
            date = _changed_issue(path, issues)
            if date is not None and path.exists():
                try:
                    if version_of(desk.settings, date) != desk.rendered.get(date):
                        dates.add(date)
                except FileNotFoundError:
                    continue
        if any(d in path.parents for path in paths for d in template_dirs):
            dates.update(desk.viewed)
        for date in sorted(dates):
            try:
                await run_in_threadpool(desk.render, date)
            except DigestError as exc:
                log.warning("Could not re-render %s: %s", date.isoformat(), exc)
            desk.broadcast(date.isoformat())


def create_app(
    settings: Settings, *, host: str | None = None, watch_files: bool = True, spam: bool = True
) -> Starlette:
    """The desk for `settings`, answering to `host` (DIGEST_SERVE_HOST by default)."""
    host = host or settings.serve_host
    desk = Desk(settings=settings, spam=spam)
    settings.issues_dir.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(desk, stop)) if watch_files else None
        try:
            yield
        finally:
            stop.set()
            for queue in list(desk.listeners):
                queue.put_nowait(None)
            if watcher is not None:
                await watcher

    hosts = allowed_hosts(host, settings.serve_allowed_hosts)
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
    ]
    password = settings.serve_password.get_secret_value()
    if password:
        middleware.append(Middleware(PasswordMiddleware, password=password))
    middleware.append(Middleware(BodyLimit))
    routes = [
        Route("/", index),
        Route("/events", events),
        Route("/issues/{date}/", issue_page),
        Route("/issues/{date}/email.html", email_html),
        Route("/issues/{date}/images/{name}", image),
        Route("/issues/{date}/findings", findings),
        Route("/issues/{date}/edit", edit, methods=["POST"]),
        Route("/issues/{date}/candidates", candidates, methods=["POST"]),
        Route("/issues/{date}/swap", swap, methods=["POST"]),
        Route("/issues/{date}/send-test", test_send, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.desk = desk
    return app
