"""CPU per thread of the HTTP append path: the real app served in this process, cProfile in every thread.

    .venv/bin/python -m bench.profile_http [REQUESTS_PER_CLIENT]

bench/profile.py samples `vigil serve` with py-spy, which is not always installed; this needs nothing more. The app
is built as `vigil serve` builds it (bootstrap.container, create_app) on a fresh SQLite file and served by uvicorn
on uvloop in this process; 8 lean clients (bench/http_append.RawClient) run in a child process. Each profile
measures its own thread's CPU time (time.thread_time), so waits (the commit's fsync, the GIL, the group commit's
turn) count for nothing: the tables say where the CPU goes, the loop's thread and the worker threads merged.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import cProfile
import io
import logging
import os
import pstats
import subprocess
import sys
import threading
import time
from pathlib import Path

from .common import fresh_dir
from .http_append import ADMIN_KEY

REPO = Path(__file__).resolve().parent.parent
CLIENTS = """
import sys
from bench import http_append as ha
base, ready, per_client = sys.argv[1], sys.argv[2], int(sys.argv[3])
ids = ha.open_cases(base, 8)
ha.saturated(base, ids, 20, raw=True)  # warm, unprofiled
open(ready, "w").close()
rate, _, errors = ha.saturated(base, ids, per_client, raw=True)
print(f"{rate:.0f} appends/s under the profiler, {errors} errors")
"""


class ThreadProfiles:
    """A cProfile per worker thread, switched on around each job handed to a thread pool once `on` is set."""

    def __init__(self):
        self.on = False
        self.profiles: list[cProfile.Profile] = []
        self._local = threading.local()
        self._submit = concurrent.futures.ThreadPoolExecutor.submit

    def install(self) -> None:
        outer = self

        def submit(executor, fn, /, *args, **kwargs):
            return outer._submit(executor, outer._profiled(fn), *args, **kwargs)
        concurrent.futures.ThreadPoolExecutor.submit = submit

    def _profiled(self, fn):
        def run(*args, **kwargs):
            if not self.on:
                return fn(*args, **kwargs)
            profile = getattr(self._local, "profile", None)
            if profile is None:
                profile = self._local.profile = cProfile.Profile(time.thread_time)
                self.profiles.append(profile)
            profile.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                profile.disable()
        return run


def main(argv: list[str]) -> int:
    import uvicorn
    import uvloop

    from events.personal_data import new_master_key
    from tests.pg_server import free_port

    per_client = int(argv[0]) if argv else 400
    with fresh_dir("profile-http") as d:
        os.environ.update({"VIGIL_DATABASE_URL": f"sqlite:///{d}/vigil.db", "VIGIL_MASTER_KEY": new_master_key(),
                           "VIGIL_KEYRING_FILE": f"{d}/keyring", "VIGIL_RATE_LIMIT_PER_MINUTE": "0",
                           "VIGIL_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY, "VIGIL_RUN_WORKER": "false"})
        threads = ThreadProfiles()
        threads.install()
        from service import bootstrap
        from service.app import create_app

        bootstrap.configure_logging()
        with open(f"{d}/requests.log", "w") as request_log:
            for handler in logging.getLogger().handlers:
                handler.setStream(request_log)  # as `vigil serve` under the benchmark: its log goes to a file
            app = create_app(bootstrap.container(create=True))
            port = free_port()
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                   access_log=False))
            loop_profile = cProfile.Profile(time.thread_time)
            ready = f"{d}/ready"

            async def profile_when_warm() -> None:
                while not os.path.exists(ready):
                    await asyncio.sleep(0.05)
                threads.on = True
                loop_profile.enable()

            async def drive() -> None:
                while not server.started:
                    await asyncio.sleep(0.05)
                clients = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", CLIENTS, f"http://127.0.0.1:{port}", ready, str(per_client), cwd=REPO,
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get(
                        "PYTHONPATH")]))}, stdout=subprocess.PIPE)
                out, _ = await clients.communicate()
                loop_profile.disable()
                threads.on = False
                print(out.decode().strip())
                server.should_exit = True

            async def serve() -> None:
                tasks = [asyncio.create_task(profile_when_warm()), asyncio.create_task(drive())]
                await server.serve()
                await asyncio.gather(*tasks)
            uvloop.run(serve())
    stats = pstats.Stats(loop_profile)
    for profile in threads.profiles:
        stats.add(profile)
    for order, rows in (("cumulative", 60), ("tottime", 40)):
        text = io.StringIO()
        stats.stream = text
        stats.sort_stats(order).print_stats(rows)
        print(text.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
