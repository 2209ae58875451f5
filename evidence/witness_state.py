"""A witness's memory: per log origin the latest checkpoint it verified, and every conflict it saw, in one JSON
file replaced atomically and locked across processes."""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

VERSION = 1


class StateError(Exception):
    """The state file cannot be read or used; a witness must not start afresh over a memory it cannot read."""


def empty_state() -> dict[str, Any]:
    return {"version": VERSION, "logs": {}, "conflicts": []}


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash at any moment leaves the old file or the new one whole: a temporary
    file in the same directory, fsync, rename over, fsync the directory (so the rename itself is durable)."""
    directory = path.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class StateFile:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Held across read, check and write, so that two processes (a `serve` and a `check`, say) never
        interleave and roll the state back (the race c2sp.org/tlog-witness warns of)."""
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(f"cannot open the lock file {self.lock_path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def load(self) -> dict[str, Any]:
        """The state; a missing file is a witness that has seen nothing yet, an unreadable one an error."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return empty_state()
        except OSError as exc:
            raise StateError(f"cannot read the witness state {self.path}: {exc.strerror}") from exc
        try:
            state = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise StateError(f"the witness state {self.path} is not valid JSON ({exc}); it is left as it is") from exc
        if (not isinstance(state, dict) or state.get("version") != VERSION or not isinstance(state.get("logs"), dict)
                or not isinstance(state.get("conflicts"), list)):
            raise StateError(f"the witness state {self.path} is not a version {VERSION} witness state")
        return state

    def save(self, state: dict[str, Any]) -> None:
        write_atomically(self.path, json.dumps(state, indent=1, sort_keys=True).encode("utf-8") + b"\n")

    def check_writable(self) -> None:
        """Fail at start, not at the first checkpoint, when the state cannot be kept here."""
        self.load()
        directory = self.path.parent
        if not directory.is_dir() or not os.access(directory, os.W_OK):
            raise StateError(f"cannot write the witness state in {directory}")
        with self.locked():
            pass
