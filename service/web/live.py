"""GET /live: the dashboard's Server-Sent Events stream of changes its viewer's team may see (one per open page)."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from service.api.deps import in_thread
from service.live import Notice, Subscriber

from .auth import SignInRequired, container, viewer
from .sessions import COOKIE_NAME

router = APIRouter(include_in_schema=False)
RETRY_MS = 2000  # how long the browser waits before reconnecting after a drop


def _position(value: str | None) -> int | None:
    """A Last-Event-ID or `since` as the server wrote it (a position), else None: a stranger's value is ignored."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def frame(notice: Notice) -> str:
    event_id = f"id: {notice.position}\n" if notice.position else ""
    return f"{event_id}data: {json.dumps(notice.wire(), separators=(',', ':'))}\n\n"


@router.get("/live")
async def live(request: Request, since: str = ""):
    try:
        seen_by = await in_thread(viewer, request)
    except SignInRequired:  # an EventSource cannot follow a redirect to the sign-in page; it is told plainly
        return Response(status_code=401)
    box = container(request)
    if box.live.open_for(seen_by.principal.actor) >= box.live.max_per_actor:
        return Response(status_code=429, headers={"Retry-After": "60"})  # an EventSource does not retry a 429
    start = _position(request.headers.get("last-event-id")) or _position(since)
    if seen_by.session is not None:
        cookie = request.cookies.get(COOKIE_NAME)
        still_valid = lambda: box.sessions.find(cookie) is not None  # noqa: E731
    else:
        key = request.headers.get("authorization", "").partition(" ")[2].strip()
        still_valid = lambda: box.keys.authenticate(key) is not None  # noqa: E731
    return StreamingResponse(_stream(box, seen_by, start, still_valid), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})  # nginx: pass each notice on at once


async def _stream(box, seen_by, start: int | None, still_valid: Callable[[], bool]):
    feed = box.live
    if feed.open_for(seen_by.principal.actor) >= feed.max_per_actor:
        # Others of the same principal opened since the check above: this one ends, its browser waits a minute.
        # (No await from here to subscribe's own count, so subscribe cannot raise TooManyStreams below.)
        yield f"retry: {RETRY_MS * 30}\n\n"
        return
    async with feed.subscribe(seen_by.principal) as subscriber:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        if start is not None:
            for notice in await feed.replay(subscriber, start):
                yield _sent(subscriber, notice)
        beat_at = time.monotonic() + feed.heartbeat_seconds
        while True:
            try:
                notice = await asyncio.wait_for(subscriber.queue.get(), timeout=max(0, beat_at - time.monotonic()))
            except asyncio.TimeoutError:
                notice = None
            if time.monotonic() >= beat_at:
                # A session ended or a key revoked meanwhile ends the stream (the browser's reconnect is then
                # refused); a comment keeps proxies from closing an idle one.
                if not await in_thread(still_valid):
                    return
                beat_at = time.monotonic() + feed.heartbeat_seconds
                yield ": heartbeat\n\n"
            if notice is None:
                continue
            if subscriber.overflowed:
                subscriber.overflowed = False
                yield _sent(subscriber, Notice("reload", "", ()))
                continue
            if notice.position is not None and notice.position <= subscriber.last_position:
                continue  # already sent in the replay
            yield _sent(subscriber, notice)


def _sent(subscriber: Subscriber, notice: Notice) -> str:
    if notice.position:
        subscriber.last_position = max(subscriber.last_position, notice.position)
    return frame(notice)
