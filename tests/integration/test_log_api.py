"""The log through the API: log_index on every event, proofs that verify against the leaves, 4xx naming the
parameter for anything out of range, and leaves for admins only."""
from __future__ import annotations

import base64

import pytest

from events import merkle
from service.keys import KeyService

from .helpers.cases import append, open_case


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@pytest.fixture
def logged(client):
    """Two cases and their events through the API; the leaves as an admin reads them."""
    cases = [open_case(client), open_case(client)]
    indexes = []
    for k in range(4):
        response = append(client, cases[k % 2], "NoteAdded", {"text": f"note {k}"})
        assert response.status_code == 201, response.text
        indexes.append(response.json()["log_index"])
    size = client.get("/v1/log/size").json()["size"]
    assert size == 6 and indexes == [2, 3, 4, 5]
    leaves = []
    for index in range(size):
        body = client.get(f"/v1/log/leaves/{index}").json()
        assert body["index"] == index
        leaves.append(merkle.leaf_hash(_b64(body["data"])))
    return cases, leaves


def test_every_event_the_api_returns_carries_its_log_index(client, logged):
    cases, _ = logged
    items = [e for c in cases for e in client.get(f"/v1/cases/{c}/events").json()["items"]]
    assert sorted(e["log_index"] for e in items) == list(range(6))
    feed = client.get("/v1/events").json()["items"]
    assert [e["log_index"] for e in feed] == list(range(6))
    csv_text = client.get(f"/v1/cases/{cases[0]}/export?format=csv").text
    assert csv_text.splitlines()[0].startswith("position,log_index,")
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "log_index" in schema["AppendOut"]["properties"] and "log_index" in schema["CaseCreatedOut"]["required"]


def test_a_leaf_is_the_events_canonical_bytes_the_same_its_chain_hash_covers(client, logged, box):
    cases, leaves = logged
    event = box.store.read_stream(cases[1])[0]
    body = client.get(f"/v1/log/leaves/{event.log_index}").json()
    assert _b64(body["data"]) == event.canonical() and body["event_id"] == event.event_id
    assert "v1." in _b64(body["data"]).decode()  # the person as sealed, never in clear


def test_inclusion_and_consistency_proofs_verify_against_the_leaves(client, logged):
    _, leaves = logged
    for size in range(1, len(leaves) + 1):
        root = merkle.root_of(leaves[:size])
        for index in range(size):
            body = client.get(f"/v1/log/proof/inclusion?index={index}&size={size}").json()
            assert (body["index"], body["size"]) == (index, size)
            proof = [_b64(h) for h in body["hashes"]]
            assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
            assert not merkle.verify_inclusion(leaves[index - 1] if index else leaves[1], index, size, proof, root)
        for old in range(0, size + 1):
            body = client.get(f"/v1/log/proof/consistency?old={old}&new={size}").json()
            proof = [_b64(h) for h in body["hashes"]]
            assert (body["old"], body["new"]) == (old, size)
            assert merkle.verify_consistency(old, size, merkle.root_of(leaves[:old]), root, proof)


@pytest.mark.parametrize("query, field", [
    ("index=0&size=7", "size"),       # beyond the log
    ("index=6&size=6", "index"),      # not in that tree
    ("index=0&size=0", "size"),
    ("index=-1&size=3", "index"),
    ("index=x&size=3", "index"),
    ("index=0", "size"),
    ("index=0&size=99999999999999999999999", "size"),
])
def test_bad_inclusion_parameters_are_422_naming_the_parameter(client, logged, query, field):
    response = client.get(f"/v1/log/proof/inclusion?{query}")
    assert response.status_code == 422, response.text
    assert [d["loc"] for d in response.json()["detail"]] == [["query", field]]


@pytest.mark.parametrize("query, field", [
    ("old=1&new=7", "new"), ("old=5&new=4", "old"), ("old=0&new=0", "new"), ("old=-2&new=3", "old"),
    ("old=1&new=1.5", "new"), ("new=3", "old"),
])
def test_bad_consistency_parameters_are_422_naming_the_parameter(client, logged, query, field):
    response = client.get(f"/v1/log/proof/consistency?{query}")
    assert response.status_code == 422, response.text
    assert [d["loc"] for d in response.json()["detail"]] == [["query", field]]


def test_proofs_for_any_key_leaves_for_admins_only_and_in_the_access_log(client, logged, box):
    viewer = KeyService(box.engine, box.clock).create("viewer", "lyon", "reader")
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    assert client.get("/v1/log/proof/inclusion?index=0&size=6", headers=as_viewer).status_code == 200
    assert client.get("/v1/log/proof/consistency?old=2&new=6", headers=as_viewer).status_code == 200
    assert client.get("/v1/log/size", headers=as_viewer).status_code == 200
    assert client.get("/v1/log/leaves/0", headers=as_viewer).status_code == 403
    for path in ("/v1/log/leaves/0", "/v1/log/proof/inclusion?index=0&size=6", "/v1/log/size"):
        assert client.get(path, headers={"Authorization": ""}).status_code == 401
    assert client.get("/v1/log/leaves/6").status_code == 404
    assert client.get("/v1/log/leaves/-1").status_code == 422
    assert client.get("/v1/log/leaves/99999999999999999999").status_code == 422
    entries = client.get("/v1/access-log").json()["items"]
    assert any(e["action"] == "log_leaf" and e["path"] == "/v1/log/leaves/0" for e in entries)


def test_an_empty_log_answers_size_zero_and_refuses_every_proof(client):
    assert client.get("/v1/log/size").json() == {"size": 0}
    assert client.get("/v1/log/proof/inclusion?index=0&size=1").status_code == 422
    assert client.get("/v1/log/leaves/0").status_code == 404


def test_vigil_verify_recomputes_the_tree_and_names_a_rewritten_node(client, logged, engine, settings, monkeypatch,
                                                                      tmp_path):
    """The chains stay intact here: only the tree was changed, and `vigil verify` still finds it."""
    from sqlalchemy import text
    from typer.testing import CliRunner

    from service.cli import app

    monkeypatch.setenv("VIGIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VIGIL_MASTER_KEY", settings.master_key)
    monkeypatch.chdir(tmp_path)
    _, leaves = logged
    healthy = CliRunner().invoke(app, ["verify"])
    root = base64.b64encode(merkle.root_of(leaves)).decode()
    assert healthy.exit_code == 0 and f"merkle log: ok, 6 leaves, root {root}" in healthy.output
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE log_nodes DISABLE TRIGGER log_nodes_no_update"))
        else:
            conn.execute(text("DROP TRIGGER log_nodes_no_update"))
        conn.execute(text("UPDATE log_nodes SET hash = :h WHERE level = 1 AND idx = 2"), {"h": b"\x01" * 32})
    broken = CliRunner().invoke(app, ["verify"])
    assert broken.exit_code == 1 and "2 of 2 cases verified" in broken.output
    assert "merkle log: BROKEN: the stored node at level 1, index 2 does not match" in broken.output
