"""Witness tests' helpers: an in-memory log that signs checkpoints (and can be rewritten, as an insider would), the
add-checkpoint body, a real local HTTP server for it, and uvicorn serving an app on a free port."""
from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import uvicorn

from events import merkle
from evidence import notes
from evidence.notes import Checkpoint, SignerKey


class FakeLog:
    """Leaves in memory, hashed with events.merkle; checkpoints signed with the log's key."""

    def __init__(self, origin: str, signer: SignerKey, leaves: int = 0):
        self.origin, self.signer = origin, signer
        self.data: list[bytes] = []
        self.append(leaves)

    @property
    def size(self) -> int:
        return len(self.data)

    def append(self, count: int) -> None:
        self.data += [f"event {len(self.data) + i}".encode() for i in range(count)]

    def rewrite(self, index: int, data: bytes) -> None:
        """What an insider does: change one leaf; every hash after it follows, as a recomputation would."""
        self.data[index] = data

    def _hashes(self, size: int) -> list[bytes]:
        return [merkle.leaf_hash(d) for d in self.data[:size]]

    def root(self, size: int) -> bytes:
        return merkle.root_of(self._hashes(size))

    def proof(self, old: int, new: int) -> list[bytes]:
        return merkle.consistency_proof(self._hashes(new), old, new)

    def proof_to(self, new: int):
        """A log's `proof_from(old)`: consistency proofs to size `new`."""
        return lambda old: self.proof(old, new)

    def checkpoint(self, size: int | None = None, signer: SignerKey | None = None) -> str:
        size = self.size if size is None else size
        return notes.sign_checkpoint(Checkpoint(self.origin, size, self.root(size)), signer or self.signer)


def add_body(old: int, proof: list[bytes], checkpoint: str) -> bytes:
    lines = [f"old {old}"] + [notes.b64encode(h) for h in proof]
    return ("\n".join(lines) + "\n\n" + checkpoint).encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}")
            time.sleep(0.1)


@contextmanager
def serve_app(app, **config) -> Iterator[str]:
    """The app under uvicorn in a thread on a free port, until the block ends; yields its base URL. `config`: more
    of uvicorn's settings."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class LogServer:
    """A real local HTTP server answering a Vigil log's two read endpoints from a FakeLog:
    GET /v1/log/checkpoint and GET /v1/log/proof/consistency?old=M&new=N. `checkpoint_text` and `proof_answer`
    replace the honest answers when set; `status` makes every answer that status."""

    def __init__(self, log: FakeLog):
        self.log = log
        self.checkpoint_text: str | None = None
        self.proof_answer: bytes | None = None
        self.status = 200
        self.authorizations: list[str | None] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                owner.authorizations.append(self.headers.get("authorization"))
                url = urlsplit(self.path)
                if owner.status != 200:
                    self._answer(owner.status, b"unavailable", "text/plain")
                elif url.path == "/v1/log/checkpoint":
                    text = owner.checkpoint_text or owner.log.checkpoint()
                    self._answer(200, text.encode(), "text/plain; charset=utf-8")
                elif url.path == "/v1/log/proof/consistency":
                    query = parse_qs(url.query)
                    old, new = int(query["old"][0]), int(query["new"][0])
                    body = owner.proof_answer or json.dumps(
                        {"old": old, "new": new,
                         "hashes": [notes.b64encode(h) for h in owner.log.proof(old, new)]}).encode()
                    self._answer(200, body, "application/json")
                else:
                    self._answer(404, b"not found", "text/plain")

            def _answer(self, status: int, body: bytes, content_type: str):
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "LogServer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
