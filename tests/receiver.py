"""A webhook receiver for tests: a real HTTP server on loopback that records what it is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Answers each POST with `status` (or `answer(number of the request)`) and records it."""

    def __init__(self, answer: Callable[[int], int] | None = None) -> None:
        # (headers, body, status answered), in arrival order.
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        self.status = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    status = answer(len(receiver.received)) if answer else receiver.status
                    receiver.received.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def documents(self, *, acknowledged_only: bool = False) -> list[dict[str, Any]]:
        """The JSON documents received, in order (only those answered 2xx if asked)."""
        return [
            json.loads(body)
            for _, body, status in self.received
            if not acknowledged_only or 200 <= status < 300
        ]

    def ids(self, *, acknowledged_only: bool = False) -> list[int]:
        """The event ids received, in order."""
        return [d["id"] for d in self.documents(acknowledged_only=acknowledged_only)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
