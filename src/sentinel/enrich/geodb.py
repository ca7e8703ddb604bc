"""GeoIP and AS databases behind one interface, and the stack that chooses between their answers.

A run has several databases at once: the embedded defaults (country from iptocc, AS from plevin), the DB-IP
Lite files `sentinel geoip update` keeps in the user cache, and those the user names (`-gi`, `-gin`,
`--geoip-db`: legacy .dat, MaxMind DB .mmdb, CSV range files). Each answers a whole batch of distinct
addresses at once (IPv4 as uint32, IPv6 as uint64 halves plus canonical text) with, per address, the fields
it knows (country, AS number, AS organisation, city) and the prefix length of the network that answered.

Who wins, per address and field (`GeoStack.lookup`):

1. the databases the user named beat the defaults; among them the more specific network (longer prefix)
   wins, then the one named first;
2. the defaults answer what no named database knows, again the more specific first (so the DB-IP files of
   `sentinel geoip update` win over the embedded data where both answer);
3. except that `-gi` and `-gin` keep their original meaning: with `-gi` the country comes from named
   databases only, with `-gin` the AS organisation (an address the file does not know stays unknown, as
   it always did).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FIELDS = ("country", "asn", "as_name", "city")
NO_PREFIX = -1  # the database has no entry for the address
UNKNOWN_PREFIX = 0  # it has one, but cannot say how large its network is (legacy .dat, iptocc)

_LEGACY_ORG = re.compile(r"AS(\d+)(?:\s+(.*))?", re.DOTALL)


@dataclass
class Answers:
    """One database's answers for a batch: one entry per address, None where it knows nothing."""

    country: np.ndarray  # object: ISO 3166-1 alpha-2 or None
    asn: np.ndarray  # object: int or None
    as_name: np.ndarray  # object: organisation name (without "AS123") or None
    city: np.ndarray  # object: city name (English) or None
    prefix: np.ndarray  # int16: prefix length of the network that answered; NO_PREFIX where none did

    @classmethod
    def empty(cls, n: int) -> Answers:
        return cls(
            country=np.full(n, None, dtype=object),
            asn=np.full(n, None, dtype=object),
            as_name=np.full(n, None, dtype=object),
            city=np.full(n, None, dtype=object),
            prefix=np.full(n, NO_PREFIX, dtype=np.int16),
        )

    def __len__(self) -> int:
        return len(self.prefix)

    def put(self, index: np.ndarray, other: Answers) -> None:
        """Copy `other` (answers for the addresses at `index`) into place."""
        for name in (*FIELDS, "prefix"):
            getattr(self, name)[index] = getattr(other, name)


@dataclass(frozen=True)
class DatabaseInfo:
    """What a report says about a database: which, of when, under which terms."""

    name: str  # a path, or "embedded: ..." / "cache: ..."
    kind: str  # "legacy .dat", "MaxMind DB", "CSV ranges", "embedded"
    provides: tuple[str, ...]  # of FIELDS
    explicit: bool  # named by the user
    description: str = ""  # edition or database type
    date: str | None = None  # of the data (build date), ISO 8601
    licence: str | None = None  # licence and the attribution it asks for

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "provides": list(self.provides),
            "explicit": self.explicit,
            "description": self.description,
            "date": self.date,
            "licence": self.licence,
        }


class GeoDatabase(Protocol):
    info: DatabaseInfo

    def lookup_v4(self, ipv4: np.ndarray) -> Answers:
        """Answers for a uint32 array of IPv4 addresses."""
        ...

    def lookup_v6(self, hi: np.ndarray, lo: np.ndarray, texts: Sequence[str]) -> Answers:
        """Answers for IPv6 addresses, as uint64 halves and as canonical text (the same addresses)."""
        ...


def split_legacy_org(text: str | None) -> tuple[int | None, str | None]:
    """'AS15169 Google Inc.' -> (15169, 'Google Inc.'); text of another shape is all name."""
    if text is None:
        return None, None
    match = _LEGACY_ORG.fullmatch(text)
    if not match:
        return None, text
    return int(match.group(1)), match.group(2) or None


def as_org_texts(asn: pa.Array, name: pa.Array) -> pa.Array:
    """The one-line AS organisation reports show, for every (asn, name) pair at once: 'AS15169 Google LLC'
    (the legacy GeoIPASNum form), 'AS15169' without a name, the name alone without a number, or null. Whole
    columns (millions of addresses), no Python per address."""
    number = pc.binary_join_element_wise("AS", pc.cast(asn, pa.string()), "")  # null without a number
    named = pc.if_else(pc.equal(name, ""), pa.scalar(None, pa.string()), name)  # "" adds no name
    return pc.coalesce(pc.binary_join_element_wise(number, named, " "), number, name)


def as_org_text(asn: int | None, name: str | None) -> str | None:
    """as_org_texts of one pair."""
    text: str | None = as_org_texts(pa.array([asn], pa.int64()), pa.array([name], pa.string()))[0].as_py()
    return text


@dataclass
class Chosen:
    """The stack's answers for a batch, with which database gave each field (index into the stack, -1)."""

    answers: Answers
    source: dict[str, np.ndarray] = field(default_factory=dict)  # field -> int16 index per address


class GeoStack:
    """The databases of a run, in order of preference for ties: named ones first, in the order given."""

    def __init__(self, databases: Sequence[GeoDatabase], exclusive: Sequence[str] = ()) -> None:
        self.databases = list(databases)
        # Fields that named databases alone answer: "country" (-gi), "asn" (-gin: the AS fields).
        self.exclusive = frozenset(exclusive)

    @property
    def infos(self) -> list[DatabaseInfo]:
        return [db.info for db in self.databases]

    def provides(self, name: str) -> bool:
        return any(name in db.info.provides for db in self.databases)

    def used_for(self, name: str) -> list[DatabaseInfo]:
        """The databases that answer `name` ("country", "asn", "city"), in order of preference."""
        infos = [db.info for db in self.databases if name in db.info.provides]
        if name in self.exclusive:
            infos = [i for i in infos if i.explicit]
        return sorted(infos, key=lambda i: not i.explicit)  # stable: named ones first, in the order given

    def describe(self, name: str, none: str = "none") -> str:
        """One line for reports: the databases that answer `name`, most preferred first."""
        return "; ".join(i.name for i in self.used_for(name)) or none

    def lookup(
        self, version: np.ndarray, ipv4: np.ndarray, hi: np.ndarray, lo: np.ndarray, texts: Sequence[str]
    ) -> Chosen:
        """Answers for a batch of addresses: IPv4 ones (version 4) by `ipv4`, IPv6 ones by hi/lo and text.

        Other entries (version 0: not an address) get no answer.
        """
        n = len(version)
        # A database whose every field is left to named ones (the embedded defaults under -gi and -gin) is
        # not asked: its answers would all be discarded below.
        per_db = [
            self._one(db, version, ipv4, hi, lo, texts) if self._consulted(db) else Answers.empty(n)
            for db in self.databases
        ]
        out = Answers.empty(n)
        sources: dict[str, np.ndarray] = {}
        for name in ("country", "asn", "city"):
            best = np.full(n, -1, dtype=np.int32)
            source = np.full(n, -1, dtype=np.int16)
            for i, (db, answers) in enumerate(zip(self.databases, per_db, strict=True)):
                if name not in db.info.provides or (name in self.exclusive and not db.info.explicit):
                    continue
                answered = known(getattr(answers, name))
                if name == "asn":  # an organisation without a number still answers the AS question
                    answered |= known(answers.as_name)
                rank = np.where(answered, answers.prefix.astype(np.int32) + (1000 if db.info.explicit else 0), -1)
                better = rank > best
                best[better] = rank[better]
                source[better] = i
            for i, answers in enumerate(per_db):
                chosen = source == i
                if name == "asn":
                    out.asn[chosen] = answers.asn[chosen]
                    out.as_name[chosen] = answers.as_name[chosen]
                else:
                    getattr(out, name)[chosen] = getattr(answers, name)[chosen]
            sources["as_name" if name == "asn" else name] = source
        sources["asn"] = sources["as_name"]
        return Chosen(out, sources)

    def _consulted(self, db: GeoDatabase) -> bool:
        return any(db.info.explicit or name not in self.exclusive for name in db.info.provides)

    @staticmethod
    def _one(
        db: GeoDatabase,
        version: np.ndarray,
        ipv4: np.ndarray,
        hi: np.ndarray,
        lo: np.ndarray,
        texts: Sequence[str],
    ) -> Answers:
        out = Answers.empty(len(version))
        v4 = np.flatnonzero(version == 4)
        v6 = np.flatnonzero(version == 6)
        if v4.size:
            out.put(v4, db.lookup_v4(ipv4[v4]))
        if v6.size:
            out.put(v6, db.lookup_v6(hi[v6], lo[v6], [texts[int(i)] for i in v6]))
        return out


def known(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the entries of an object array that are not None (numpy's loop: ~3x a generator's speed,
    on millions of addresses several times a run)."""
    mask: np.ndarray = values != None  # noqa: E711 (numpy compares each entry with None)
    return mask


def v6_keys(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """IPv6 addresses as 16-byte big-endian strings: numpy orders them as the numbers they are."""
    pairs = np.empty((len(hi), 2), dtype=">u8")
    pairs[:, 0] = hi
    pairs[:, 1] = lo
    return pairs.view("S16").reshape(-1)
