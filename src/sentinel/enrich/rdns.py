"""Reverse DNS for the few addresses alerts name: opt-in (a lookup tells the resolver what you hunt),
bounded in time, concurrent."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Sequence

Resolver = Callable[[Sequence[str]], dict[str, str]]

MAX_LOOKUPS = 256  # alerts name a handful of addresses; more would be a flood of queries


def no_resolver(ips: Sequence[str]) -> dict[str, str]:
    return {}


def _lookup(ip: str) -> str | None:
    try:
        return socket.gethostbyaddr(ip)[0]
    except (OSError, UnicodeError):
        return None


def system_resolver(timeout_s: float = 3.0, lookup: Callable[[str], str | None] = _lookup) -> Resolver:
    """Resolve with the system resolver; what has not answered within `timeout_s` stays unnamed.

    Daemon threads, not a pool: a resolver that never answers must not hold up the end of the run.
    """

    def resolve(ips: Sequence[str]) -> dict[str, str]:
        names: dict[str, str] = {}
        lock = threading.Lock()

        def work(ip: str) -> None:
            name = lookup(ip)
            if name:
                with lock:
                    names[ip] = name

        threads = [threading.Thread(target=work, args=(ip,), daemon=True) for ip in list(ips)[:MAX_LOOKUPS]]
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout_s
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with lock:
            return dict(names)

    return resolve
