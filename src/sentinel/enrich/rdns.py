"""Reverse DNS for the few addresses alerts name: opt-in (a lookup tells the resolver what you hunt),
bounded in time, concurrent, and remembered on disk for a while (the user cache), so that rerunning a report
neither waits for nor repeats the queries.

Names are untrusted text: whoever controls a reverse zone chooses them (Markdown, HTML, terminal escapes,
bidirectional controls). They are kept as they came (at most 253 characters, the longest DNS name), and
every renderer escapes them (`sentinel.report.escape`), as everything else from the data.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

Resolver = Callable[[Sequence[str]], dict[str, str]]

MAX_LOOKUPS = 256  # alerts name a handful of addresses; more would be a flood of queries
MAX_NAME = 253  # characters in a DNS name
TTL_S = 24 * 3600  # a name found is reused for a day
NEGATIVE_TTL_S = 3600  # "no name" for an hour; a lookup that timed out is not remembered
CACHE_FILE = "rdns.json"
_MAX_ENTRIES = 50_000


def no_resolver(ips: Sequence[str]) -> dict[str, str]:
    return {}


def _lookup(ip: str) -> str | None:
    try:
        return socket.gethostbyaddr(ip)[0]
    except (OSError, UnicodeError):
        return None


class RdnsCache:
    """Names (and "no name") by address, with the time each stops being valid, in one JSON file.

    A damaged or foreign file is ignored (and replaced on the next save); saving is atomic (a temporary file
    renamed over the old one), so concurrent runs never read half a file.
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._entries: dict[str, tuple[str | None, float]] = self._load()

    @classmethod
    def default(cls) -> RdnsCache:
        from sentinel.user_cache import cache_dir

        return cls(cache_dir() / CACHE_FILE)

    def _load(self) -> dict[str, tuple[str | None, float]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries = data.get("entries") if isinstance(data, dict) and data.get("version") == 1 else None
        out: dict[str, tuple[str | None, float]] = {}
        for ip, value in (entries or {}).items():
            if (
                isinstance(ip, str)
                and isinstance(value, list)
                and len(value) == 2
                and (value[0] is None or isinstance(value[0], str))
                and isinstance(value[1], int | float)
            ):
                out[ip] = (None if value[0] is None else value[0][:MAX_NAME], float(value[1]))
        return out

    def get(self, ip: str) -> tuple[bool, str | None]:
        """(known, name): whether a valid entry exists, and the name it holds (None: the address has none)."""
        entry = self._entries.get(ip)
        if entry is None or entry[1] <= self.clock():
            return False, None
        return True, entry[0]

    def put(self, ip: str, name: str | None) -> None:
        ttl = TTL_S if name else NEGATIVE_TTL_S
        self._entries[ip] = (name[:MAX_NAME] if name else None, self.clock() + ttl)

    def save(self) -> None:
        now = self.clock()
        valid = sorted(((ip, e) for ip, e in self._entries.items() if e[1] > now), key=lambda kv: -kv[1][1])
        fresh = {ip: [name, until] for ip, (name, until) in valid[:_MAX_ENTRIES]}  # the longest-lived first
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=".rdns-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"version": 1, "entries": fresh}, f, ensure_ascii=False)
                os.replace(name, self.path)
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a cache that cannot be written costs the next run some queries, nothing more


def system_resolver(
    timeout_s: float = 3.0,
    lookup: Callable[[str], str | None] = _lookup,
    cache: RdnsCache | None = None,
) -> Resolver:
    """Resolve with the system resolver; what has not answered within `timeout_s` stays unnamed.

    With a cache, valid entries answer at once and only the rest is queried; answers (and definite "no name"
    answers, not time-outs) are stored. Daemon threads, not a pool: a resolver that never answers must not
    hold up the end of the run.
    """

    def resolve(ips: Sequence[str]) -> dict[str, str]:
        names: dict[str, str] = {}
        answered: dict[str, str | None] = {}
        lock = threading.Lock()
        asked: list[str] = []
        for ip in list(dict.fromkeys(ips))[:MAX_LOOKUPS]:
            known, name = cache.get(ip) if cache else (False, None)
            if known:
                if name:
                    names[ip] = name
            else:
                asked.append(ip)

        def work(ip: str) -> None:
            name = lookup(ip)
            with lock:
                answered[ip] = name[:MAX_NAME] if name else None

        threads = [threading.Thread(target=work, args=(ip,), daemon=True) for ip in asked]
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout_s
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with lock:
            done = dict(answered)
        names.update({ip: name for ip, name in done.items() if name})
        if cache is not None and asked:
            for ip, name in done.items():
                cache.put(ip, name)
            cache.save()
        return names

    return resolve
