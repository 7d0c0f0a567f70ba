"""`digest site`: the public website of the newsletter, meant to face the internet behind a
reverse proxy. Sign-up with double opt-in, the confirmation and unsubscribe pages behind the links
in mail (RFC 8058 one-click included), and the archive of sent issues with its Atom feed.

It is separate from the editor's desk (`digest serve`, digest/web/), which stays private.

- `app`: the Starlette app and what its pages share;
- `membership`: sign-up, confirm, unsubscribe, re-subscribe;
- `archive`: the index, each issue's web copy, the feed;
- `forms`: CSRF tokens, honeypot and fill time;
- `guard`: security headers, capped bodies, an access log without tokens;
- `limits`: rate limits in the state database.
"""
