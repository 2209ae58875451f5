"""Request bodies over VIGIL_MAX_BODY_BYTES get 413 from a real uvicorn server, chunked or with a Content-Length."""
from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from ..conftest import ADMIN_KEY

LIMIT = 4096


@pytest.fixture
def db_url(sqlite_url):
    """The limit is the server's, not the database's: SQLite is enough."""
    return sqlite_url


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"max_body_bytes": LIMIT})


@pytest.fixture
def base(box):
    from service.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(box), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def case_body(size: int) -> bytes:
    """A valid new-case JSON body padded with spaces to exactly `size` bytes."""
    body = json.dumps({"person": {"name": "Limit Person (fictional)"}, "country": "FR"}).encode()
    return body + b" " * (size - len(body))


def chunked(body: bytes, piece: int = 1000):
    for start in range(0, len(body), piece):
        yield body[start:start + piece]


def post(base: str, content) -> httpx.Response:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
    with httpx.Client(timeout=10) as client:
        return client.post(base + "/v1/cases", content=content, headers=headers)


@pytest.mark.parametrize("encoding", ["chunked", "content-length"])
def test_a_body_over_the_limit_is_413(base, encoding):
    body = case_body(LIMIT + 1)
    response = post(base, chunked(body) if encoding == "chunked" else body)
    assert response.request.headers.get("transfer-encoding") == ("chunked" if encoding == "chunked" else None)
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body is larger than {LIMIT} bytes"}


def test_a_much_larger_chunked_body_is_refused(base):
    response = post(base, chunked(b"x" * (50 * LIMIT)))
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body is larger than {LIMIT} bytes"}


@pytest.mark.parametrize("encoding", ["chunked", "content-length"])
def test_a_body_exactly_at_the_limit_is_accepted(base, encoding):
    body = case_body(LIMIT)
    response = post(base, chunked(body) if encoding == "chunked" else body)
    assert response.status_code == 201, response.text
    assert response.json()["id"]


def test_requests_without_a_body_still_work(base):
    with httpx.Client(timeout=10) as client:
        response = client.get(base + "/v1/cases", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert response.status_code == 200 and isinstance(response.json()["items"], list)
