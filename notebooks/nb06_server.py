"""A small, slow web-like server for notebook 06, running on this machine (127.0.0.1).

Each request is answered after ``delay`` seconds, like a server far away on the
internet. The server runs in a background thread of the kernel, and answers
several clients at once (one short-lived thread per connection), as real
servers do. Use it with ``with``, so that it is always shut down:

    >>> with slow_server(delay=0.2) as address:
    ...     print(ask(address, "page 1"))
    reply to 'page 1'
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class _SlowHandler(socketserver.StreamRequestHandler):
    timeout = 5  # seconds: a client that connects and says nothing cannot hold us forever

    def handle(self) -> None:
        request = self.rfile.readline(1024).decode().strip()
        time.sleep(self.server.delay)  # the "network": the answer takes a while
        self.wfile.write(f"reply to {request!r}\n".encode())


class _SlowServer(socketserver.ThreadingTCPServer):
    # Connection threads are not daemons, so server_close() waits for them:
    # nothing is left running when the `with` block ends.
    daemon_threads = False
    block_on_close = True
    request_queue_size = 64  # many clients may connect at the same instant

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _SlowHandler)  # port 0: any free port
        self.delay = delay


@contextmanager
def slow_server(delay: float = 0.2, timeout: float = 5.0) -> Iterator[tuple[str, int]]:
    """Start the server in a background thread; yield its (host, port); always shut it down."""
    if not 0 <= delay <= 5:
        raise ValueError(f"delay is in seconds, between 0 and 5; got {delay}")
    server = _SlowServer(delay)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="slow-server", daemon=True)  # fmt: skip
    thread.start()
    try:
        yield server.server_address
    finally:
        server.shutdown()  # stops serve_forever (within poll_interval)
        server.server_close()  # closes the socket, waits for connection threads
        thread.join(timeout)


def ask(address: tuple[str, int], request: str, timeout: float = 5.0) -> str:
    """Send one line to the server and return its one-line reply (blocks until it comes)."""
    with socket.create_connection(address, timeout=timeout) as conn:
        conn.sendall(request.encode() + b"\n")
        return conn.makefile("r").readline().strip()
