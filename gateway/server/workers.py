"""`fedgate serve --workers N`: N gateway processes sharing one listening socket.

Python runs one core per process, so using every core means several processes. The supervisor binds
the socket once (the kernel spreads connections over the workers accepting on it), forks the
workers, restarts one that dies, and on SIGTERM/SIGINT passes the signal on so every worker drains
as a single gateway would; it exits 0 when they all did.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import NoReturn

log = logging.getLogger("fedgate.workers")
_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def bind_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """The listening socket every worker accepts on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def serve_workers(count: int, sock: socket.socket, run_worker: Callable[[socket.socket], None]) -> NoReturn:
    """Fork `count` workers running `run_worker(sock)`; supervise them until a signal stops them."""
    children: dict[int, float] = {}
    stopping = False

    def spawn() -> None:
        # Signals stay blocked across fork so that neither side handles one half set up: the worker
        # must not run the supervisor's handler, and the supervisor must know the pid to pass it on.
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
            code = 0
            try:
                run_worker(sock)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - a worker reports and exits, the supervisor restarts it
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
        children[pid] = time.monotonic()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)

    def forward(sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for _ in range(count):
        spawn()
    exit_code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        started = children.pop(pid, time.monotonic())
        code = os.waitstatus_to_exitcode(status)
        if stopping:
            if code not in (0, -signal.SIGTERM, -signal.SIGINT):
                exit_code = 1
            continue
        log.warning("worker %d exited with %d; starting another", pid, code)
        if time.monotonic() - started < 1.0:
            time.sleep(1.0)  # a worker that dies at once would otherwise spin
        spawn()
    sock.close()
    sys.exit(exit_code)
