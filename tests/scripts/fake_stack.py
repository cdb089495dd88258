"""A fake `make run` for tests/scripts/test_stop.py: the real supervisor (scripts.run.supervise,
scripts.stack.Stack and serve) over child processes that only sleep and answer a health check.

    python -m tests.scripts.fake_stack WORKDIR actions=PORT rasa=PORT api=PORT [--slow rasa]

Each service is `python WORKDIR/fake_service.py MODE PORT WORKDIR`, so every process of the
fake stack has WORKDIR on its command line (the test finds survivors by it):
- `stubborn` (the action server's shape): binds the port, forks a worker that keeps the
  listening socket and ignores SIGTERM (Sanic's workers outlive a killed parent), serves;
- `slow-stop`: takes a second to exit on SIGTERM;
- `plain`: exits on SIGTERM;
- `slow-start`: listens only after 4 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

SERVICE = r"""
import http.server, os, signal, socket, sys, time

mode, port, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


if mode == "slow-start":
    time.sleep(4)
if mode == "slow-stop":
    def later(*_):
        time.sleep(1)
        os._exit(0)
    signal.signal(signal.SIGTERM, later)
server = http.server.HTTPServer(("127.0.0.1", port), Ok)
if mode == "stubborn" and os.fork() == 0:  # the worker: same process group, same socket
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        time.sleep(1)
server.serve_forever()
"""


def main(argv: list[str]) -> int:
    from scripts.run import supervise
    from scripts.stack import Service, Stack

    work = Path(argv[0])
    slow = set(argv[argv.index("--slow") + 1].split(",")) if "--slow" in argv else set()
    script = work / "fake_service.py"
    script.write_text(SERVICE, encoding="utf-8")
    modes = {"actions": "stubborn", "rasa": "slow-stop", "api": "plain"}
    services = []
    for spec in [a for a in argv[1:] if "=" in a]:
        name, port = spec.split("=")
        mode = "slow-start" if name in slow else modes.get(name, "plain")
        services.append(
            Service(
                name,
                [sys.executable, str(script), mode, port, str(work)],
                f"http://127.0.0.1:{port}/",
                port=int(port),
            )
        )
    stack = Stack(services, env={"PATH": "/usr/bin:/bin"}, log_dir=work / "log", grace_s=1.0)
    return supervise(stack, api_port=int(port))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
