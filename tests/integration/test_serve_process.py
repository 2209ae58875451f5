"""`vigil serve` on a fresh database: the process that serves (the same pid, after the exec) holds neither typer nor
Alembic, yet the schema was migrated and the server answers; a start that cannot run still says so in one line."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from events.personal_data import new_master_key

from ..pg_server import free_port

VIGIL = str(Path(sys.executable).with_name("vigil"))
# Imported at start by every interpreter that finds it on the path: SIGUSR1 makes the process write its modules.
SITECUSTOMIZE = """
import os, signal, sys
def _dump(*_):
    with open(os.environ["MODULES_OUT"] + ".part", "w") as out:
        out.write("\\n".join([str(os.getpid()), *sorted(sys.modules)]))
    os.replace(os.environ["MODULES_OUT"] + ".part", os.environ["MODULES_OUT"])
signal.signal(signal.SIGUSR1, _dump)
"""
NEVER_IN_SERVER = ("alembic", "typer", "mako", "rich", "pygments", "service.cli")


def test_the_serving_process_imports_neither_typer_nor_alembic(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    out, port = tmp_path / "modules.txt", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update({"VIGIL_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db", "VIGIL_MASTER_KEY": new_master_key(),
                "VIGIL_BOOTSTRAP_ADMIN_KEY": "serve-admin-key", "MODULES_OUT": str(out),
                "PYTHONPATH": os.pathsep.join([str(hook), *filter(None, [env.get("PYTHONPATH")])])})
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen([VIGIL, "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        # The migrated schema serves: the bootstrap admin key authenticates and a case can be opened.
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/cases", headers={"Authorization": "Bearer serve-admin-key"},
                            json={"person": {"name": "Fresh Start"}, "country": "FR"}, timeout=10)
        assert answer.status_code == 201, answer.text
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert b"service.serving" in cmdline  # the same pid, now the lean server
        process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not out.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    pid, *modules = out.read_text().splitlines()
    assert int(pid) == process.pid
    assert "uvicorn" in modules and "service.app" in modules  # it did serve
    held = [m for m in modules if m.split(".")[0] in NEVER_IN_SERVER or m == "service.cli"]
    assert held == []


def _fresh_env(tmp_path) -> dict[str, str]:
    """This machine's environment without any VIGIL_ setting, a new database file and a new master key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update({"VIGIL_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db", "VIGIL_MASTER_KEY": new_master_key()})
    return env


def _keyring_sealed_by_another_key(tmp_path) -> dict[str, str]:
    """A keyring sealed with one master key, and an environment that names another."""
    from events.keyring import Keyring
    from events.personal_data import parse_master_key

    env = _fresh_env(tmp_path)
    Keyring(tmp_path / "vigil_keyring", parse_master_key(env["VIGIL_MASTER_KEY"])).current()  # seals generation 1
    env["VIGIL_MASTER_KEY"] = new_master_key()
    return env


def test_a_busy_port_is_still_one_line_before_the_exec(tmp_path):
    env = _fresh_env(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        done = subprocess.run([VIGIL, "serve", "--port", str(port)], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"vigil: cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "fresh.db").exists()


def test_a_master_key_that_does_not_open_the_keyring_is_one_line_before_the_exec(tmp_path):
    env = _keyring_sealed_by_another_key(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    done = subprocess.run([VIGIL, "serve", "--port", str(port)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "does not open with this master key" in done.stderr
    assert not (tmp_path / "fresh.db").exists()


def test_the_worker_refuses_a_master_key_that_does_not_open_the_keyring(tmp_path):
    env = _keyring_sealed_by_another_key(tmp_path)
    done = subprocess.run([VIGIL, "worker"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "does not open with this master key" in done.stderr
    assert not (tmp_path / "fresh.db").exists()
