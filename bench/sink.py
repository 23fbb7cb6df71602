"""An SMTP sink on 127.0.0.1 for the publish benchmark: aiosmtpd, accepts every message, keeps none.

Run as a child process (``python bench/sink.py``) so that the server's work
never competes for the benchmarked process's interpreter lock; it prints
its port on the first line of stdout and stops when its stdin closes (the
benchmark ended or died) or on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiosmtpd.smtp import SMTP


class Discard:
    """Accept every message and drop it: the sink's cost is the SMTP dialogue and nothing else."""

    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 2.0.0 accepted"


def main() -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(Discard(), hostname="sink.bench", ident="bench sink", loop=loop), "127.0.0.1", 0))
    print(server.sockets[0].getsockname()[1], flush=True)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_reader(sys.stdin.fileno(), lambda: None if sys.stdin.buffer.read1(1024) else loop.stop())
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
