"""A real local HTTP receiver for delivery tests: records every request and answers as scripted."""
from __future__ import annotations

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """Answers to give, in order; the last one repeats. An answer is a status code, or 'hang' / 'close' /
    'garbage', or a (status, headers) pair."""
    answers: deque = field(default_factory=lambda: deque([200]))

    def next(self):
        return self.answers.popleft() if len(self.answers) > 1 else self.answers[0]


class Receiver:
    def __init__(self):
        self.received: list[Received] = []
        self.scripts: dict[str, Script] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver.lock:
                    receiver.received.append(Received(self.command, self.path, {k.lower(): v for k, v in
                                                                                self.headers.items()}, body))
                    script = receiver.scripts.get(self.path)
                    answer = script.next() if script else 200
                if answer == "hang":
                    time.sleep(30)
                    return
                if answer == "close":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if answer == "garbage":
                    self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
                    self.close_connection = True
                    return
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *answers) -> None:
        self.scripts[path] = Script(deque(answers))

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
