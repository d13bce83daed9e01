"""A small, slow web-like server for notebook 06, running on this machine (127.0.0.1).

Each request is answered after ``delay`` seconds, like a server far away on the
internet. Use it with ``with``, so that it is always shut down:

    >>> with slow_server(delay=0.2) as address:
    ...     print(ask(address, "page 1"))
    reply to 'page 1'

The server answers many clients at once with a single background thread: it is
written with asyncio, which part 2 of the course teaches. One thread, started
when the ``with`` block begins, is all it adds to the kernel, so a recording
made inside the block shows your threads, not the server's.
"""

from __future__ import annotations

import asyncio
import queue
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float):
    try:  # a client that connects and says nothing cannot hold us forever: 5 s at most
        request = (await asyncio.wait_for(reader.readline(), 5)).decode().strip()
        await asyncio.sleep(delay)  # the "network": the answer takes a while
        writer.write(f"reply to {request!r}\n".encode())
        await writer.drain()
    except (asyncio.TimeoutError, ConnectionError):
        pass
    except asyncio.CancelledError:  # the server is shutting down (the `with` block ended):
        pass  # end quietly, or asyncio prints the cancelled handler's traceback
    finally:
        writer.close()


def _serve(delay: float, ready: queue.Queue) -> None:
    """The server thread: listen, report (address, loop, stop event), answer until stopped."""

    async def main() -> None:
        stop = asyncio.Event()
        server = await asyncio.start_server(
            lambda r, w: _answer(r, w, delay), "127.0.0.1", 0, backlog=64  # port 0: any free
        )
        ready.put((server.sockets[0].getsockname()[:2], asyncio.get_running_loop(), stop))
        async with server:
            await stop.wait()

    try:
        asyncio.run(main())
    except BaseException as exc:  # noqa: BLE001 - reported to the thread that waits for us
        ready.put(exc)


@contextmanager
def slow_server(delay: float = 0.2, timeout: float = 5.0) -> Iterator[tuple[str, int]]:
    """Start the server in a background thread; yield its (host, port); always shut it down."""
    if not 0 <= delay <= 5:
        raise ValueError(f"delay is in seconds, between 0 and 5; got {delay}")
    ready: queue.Queue = queue.Queue()
    thread = threading.Thread(target=_serve, args=(delay, ready), name="slow-server",
                              daemon=True)  # fmt: skip
    thread.start()
    started = ready.get(timeout=timeout)
    if isinstance(started, BaseException):
        thread.join(timeout)
        raise RuntimeError("the server did not start") from started
    address, loop, stop = started
    try:
        yield address
    finally:
        loop.call_soon_threadsafe(stop.set)  # asyncio.run then closes the server and its loop
        thread.join(timeout)


def ask(address: tuple[str, int], request: str, timeout: float = 5.0) -> str:
    """Send one line to the server and return its one-line reply (blocks until it comes)."""
    with socket.create_connection(address, timeout=timeout) as conn:
        conn.sendall(request.encode() + b"\n")
        select.select([conn], [], [], timeout)  # blocked (GIL released) until the reply comes
        return conn.makefile("r").readline().strip()
