"""Reverse DNS for the few addresses alerts name: opt-in (a lookup tells the resolver what you hunt),
bounded in time, concurrent, and cached per run."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait

Resolver = Callable[[Sequence[str]], dict[str, str]]


def no_resolver(ips: Sequence[str]) -> dict[str, str]:
    return {}


def _lookup(ip: str) -> str | None:
    try:
        return socket.gethostbyaddr(ip)[0]
    except (OSError, UnicodeError):
        return None


def system_resolver(timeout_s: float = 3.0, workers: int = 16) -> Resolver:
    """Resolve with the system resolver; whatever has not answered within `timeout_s` stays unnamed."""

    def resolve(ips: Sequence[str]) -> dict[str, str]:
        pool = ThreadPoolExecutor(max_workers=workers)
        futures = {ip: pool.submit(_lookup, ip) for ip in ips}
        wait(futures.values(), timeout=timeout_s)
        pool.shutdown(wait=False, cancel_futures=True)
        return {ip: f.result() for ip, f in futures.items() if f.done() and not f.cancelled() and f.result()}

    return resolve
