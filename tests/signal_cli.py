"""A real local HTTP server answering POST /v2/send as signal-cli-rest-api documents it, for Signal delivery tests."""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SignalCliApi:
    """Accepts sends from its one registered `account` (201 {"timestamp": "<ms>"}); refuses as the service does with
    400 {"error": ...}; `outages` queues 5xx answers to give first. `sent` holds every request body it parsed."""

    def __init__(self, account: str = "+4930123456789"):
        self.account = account
        self.sent: list[dict] = []
        self.outages: deque[int] = deque()
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path != "/v2/send":
                    return self._answer(404, {"error": "404 page not found"})
                with api.lock:
                    outage = api.outages.popleft() if api.outages else None
                if outage:
                    return self._answer(outage, {"error": "signal-cli is not reachable"})
                try:
                    request = json.loads(raw)
                except ValueError:
                    return self._answer(400, {"error": "Couldn't process request - invalid request"})
                if not request.get("recipients"):
                    return self._answer(400, {"error": "Couldn't process request - please provide at least one "
                                                       "recipient"})
                if not request.get("number"):
                    return self._answer(400, {"error": "Couldn't process request - please provide a valid number"})
                if request["number"] != api.account:
                    return self._answer(400, {"error": f"User {request['number']} is not registered."})
                with api.lock:
                    api.sent.append(request)
                self._answer(201, {"timestamp": str(int(time.time() * 1000))})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "SignalCliApi":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
