"""ASGI middleware adding security headers: a strict CSP without inline script, no framing, no referrer, and no
caching of anything but static assets (answers and pages carry case data: no browser or proxy may keep them).

A response that sets its own header keeps it (the API docs allow their one inline script by hash).
"""
from __future__ import annotations

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; connect-src 'self'")
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# Built once: a static asset may be cached, anything else not.
STATIC_EXTRA = HEADERS + [(b"content-security-policy", CSP.encode())]
OTHER_EXTRA = STATIC_EXTRA + [(b"cache-control", b"no-store")]


class SecurityHeadersMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = STATIC_EXTRA if scope["path"].startswith("/static/") else OTHER_EXTRA

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
