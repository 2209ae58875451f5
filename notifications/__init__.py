"""Alert rules, subscription matching, outbox and delivery channels (built out by the alerts issue)."""
import sys

# `import httpx` also imports its command-line tool (httpx._main), which loads rich, click and pygments: some 4 MiB
# resident in `vigil serve` for a command nobody runs here. Marking that module absent before httpx is first imported
# (everything in Vigil that imports httpx goes through this package) takes httpx's own fallback for an install
# without its [cli] extra; the client, URL parsing and transports are unchanged.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)
