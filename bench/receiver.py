"""A fast local webhook receiver for the delivery benchmarks (uvicorn, asyncio): verifies and timestamps arrivals.

Accepts Vigil's signed webhooks (keyed by data.event_id) and Alertmanager's webhook JSON (each firing alert in
alerts[], keyed by its `alert_id` label). Run: python -m bench.receiver PORT. POST /_secret sets the secret to
verify with; GET /_results returns {"arrivals": {key: [monotonic seconds, ...]}, "paths": {key: {path: count}},
"verified": n, "bad": n, "ids": {key: [webhook-id, ...]}}; the paths tell which receiver (subscription) each copy
was sent to, the ids whether a second copy was the same message sent again (Vigil's webhook-id header) or a new one.
"""
from __future__ import annotations

import json
import sys
import time

from standardwebhooks import Webhook

state = {"arrivals": {}, "paths": {}, "ids": {}, "verified": 0, "bad": 0, "webhook": None}


async def _body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _keys(payload: dict) -> list[str]:
    """The alerts one webhook carries: Alertmanager's firing alerts by `alert_id` label, or Vigil's one event."""
    if "alerts" in payload:
        return [a["labels"].get("alert_id", "?") for a in payload["alerts"] if a.get("status") == "firing"]
    return [payload["data"]["event_id"] or "test"]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = await _body(receive)
    arrived = time.monotonic()
    path = scope["path"]
    answer = b""
    if path == "/_secret":
        state["webhook"] = Webhook(body.decode())
    elif path == "/_results":
        answer = json.dumps({k: v for k, v in state.items() if k != "webhook"}).encode()
    else:
        payload = json.loads(body)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        for key in _keys(payload):
            state["ids"].setdefault(key, []).append(headers.get("webhook-id", ""))
            state["arrivals"].setdefault(key, []).append(arrived)
            paths = state["paths"].setdefault(key, {})
            paths[path] = paths.get(path, 0) + 1
        if state["webhook"] is not None:
            try:
                state["webhook"].verify(body, headers)
                state["verified"] += 1
            except Exception:  # noqa: BLE001 - counted
                state["bad"] += 1
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False, backlog=4096)
