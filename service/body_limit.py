"""ASGI middleware refusing request bodies over the configured size with 413, whatever the transfer encoding."""
from __future__ import annotations

import json


class BodyLimitMiddleware:
    """Reads the whole body (up to the limit) before the app runs, then hands it on in one message.

    A limit enforced inside `receive` would raise in the middle of the app's body parsing, which FastAPI turns
    into 400; reading first means an oversized chunked body is answered 413 here, and the app never sees it.
    At most `max_bytes` is held per request: the same the app would hold to parse it anyway.
    """

    def __init__(self, app, max_bytes: int, paths: dict[str, int] | None = None):
        self.app, self.default_bytes = app, max_bytes
        self.paths = paths or {}  # larger limits for a few paths (the bulk import)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.paths.get(scope.get("path", ""), self.default_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await self._refuse(send, max_bytes)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before its body arrived: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                await self._refuse(send, max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying([{"type": "http.request", "body": b"".join(chunks), "more_body": False}],
                                        receive), send)

    async def _refuse(self, send, max_bytes: int) -> None:
        body = json.dumps({"detail": f"request body is larger than {max_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def replaying(messages: list[dict], receive):
    """A `receive` that gives these messages again, in order, then the server's own (after the body: the
    disconnect, when it comes)."""
    pending = list(messages)

    async def replay():
        return pending.pop(0) if pending else await receive()
    return replay
