"""The IP dimension: the engine's address parser against Python's ipaddress, canonical text, aliases."""

from __future__ import annotations

import ipaddress
import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.enrich import ipdim, netclass
from sentinel.enrich.geo import open_country_db

INTERNAL = netclass.parse_cidrs(netclass.DEFAULT_INTERNAL, "--internal")


@pytest.fixture(scope="module")
def engine() -> DuckDBEngine:
    return DuckDBEngine(threads=1)


def parse(engine: DuckDBEngine, texts: list[str]) -> list[tuple[int, int, str | None]]:
    """(version, integer value, canonical text) per text; (0, 0, None) for what is not an address."""
    engine.register("texts", pa.table({"ip": pa.array(texts, pa.string())}))
    p = ipdim.parse(engine, "SELECT DISTINCT ip FROM texts")
    values = [
        (int(v), int(n) if v == 4 else (int(h) << 64) | int(lo) if v == 6 else 0, c)
        for v, n, h, lo, c in zip(
            p.version.tolist(), p.ipv4.tolist(), p.hi.tolist(), p.lo.tolist(), p.canonical.to_pylist(), strict=True
        )
    ]
    return [dict(zip(p.ip.to_pylist(), values, strict=True))[t] for t in texts]


def python_canonical(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    # Python 3.13 writes IPv4-mapped addresses with a dotted tail; the engine keeps 3.11's hex form.
    if address.version == 6 and address.ipv4_mapped is not None:
        return f"::ffff:{int(address) >> 16 & 0xFFFF:x}:{int(address) & 0xFFFF:x}"
    return str(address)


def reference(text: str) -> tuple[int, int, str | None]:
    """What the engine must say: Python's ipaddress, minus scope ids, plus zero-padded decimal octets."""
    if "%" in text:
        return (0, 0, None)
    head, colon, tail = text.rpartition(":")
    if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", tail, flags=re.ASCII):
        tail = ".".join(o.lstrip("0") or "0" for o in tail.split("."))
    try:
        address = ipaddress.ip_address(head + colon + tail)
    except ValueError:
        return (0, 0, None)
    return (address.version, int(address), python_canonical(address))


# -- random spellings of valid addresses ------------------------------------------------------------------


@st.composite
def octet_text(draw, value: int) -> str:
    return str(value).zfill(draw(st.integers(len(str(value)), 3)))


@st.composite
def ipv4_text(draw, value: int | None = None) -> str:
    value = draw(st.integers(0, 2**32 - 1)) if value is None else value
    return ".".join(draw(octet_text(value >> s & 0xFF)) for s in (24, 16, 8, 0))


@st.composite
def ipv6_text(draw) -> str:
    value = draw(st.one_of(st.integers(0, 2**128 - 1), st.sampled_from([0, 1, 0xFFFF << 32]), _sparse_values()))
    groups = [value >> (112 - 16 * i) & 0xFFFF for i in range(8)]
    texts = []
    for g in groups:
        digits = f"{g:x}".zfill(draw(st.integers(len(f"{g:x}"), 4)))
        texts.append("".join(c.upper() if draw(st.booleans()) else c for c in digits))
    tail = draw(st.booleans())
    if tail:  # the last 32 bits as a dotted quad
        texts[6:] = [draw(ipv4_text(value & 0xFFFFFFFF))]
    zeros = [i for i, g in enumerate(groups[: 6 if tail else 8]) if g == 0]
    if zeros and draw(st.booleans()):  # "::" for a run of zero groups (any run, not only the longest)
        start = draw(st.sampled_from(zeros))
        end = start
        while end + 1 < (6 if tail else 8) and groups[end + 1] == 0 and draw(st.booleans()):
            end += 1
        return ":".join(texts[:start]) + "::" + ":".join(texts[end + 1 :])
    return ":".join(texts)


@st.composite
def _sparse_values(draw) -> int:
    """Values with runs of zero groups, where compression and its RFC 5952 choices matter."""
    return sum(draw(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xDB8])) << (16 * i) for i in range(8))


addresses = st.one_of(ipv4_text(), ipv6_text())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(addresses, min_size=1, max_size=80))
def test_valid_addresses_in_any_spelling_agree_with_python(engine, texts):
    assert parse(engine, texts) == [reference(t) for t in texts]


# -- garbage ------------------------------------------------------------------------------------------------

_PIECES = st.sampled_from([*"0123456789abcdefABCDEFg:.%/ \t\n\x00-", "::", "ffff", "255", "256"])


@st.composite
def mutated(draw) -> str:
    """A valid address with a character inserted, deleted or replaced: the near misses a parser gets wrong."""
    text = draw(addresses)
    at = draw(st.integers(0, len(text)))
    piece = draw(_PIECES)
    how = draw(st.sampled_from(["insert", "delete", "replace"]))
    if how == "insert":
        return text[:at] + piece + text[at:]
    if how == "delete":
        return text[:at] + text[at + 1 :]
    return text[:at] + piece + text[at + 1 :]


garbage = st.one_of(mutated(), st.lists(_PIECES, max_size=12).map("".join), st.text(max_size=20))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(garbage, min_size=1, max_size=80))
def test_garbage_is_refused_exactly_where_python_refuses_it(engine, texts):
    assert parse(engine, texts) == [reference(t) for t in texts]


@pytest.mark.parametrize(
    "text",
    [
        "fe80::1%eth0",
        "fc00::31%\x1b[31m",
        "fe80::1%1",
        " 1.2.3.4",
        "1.2.3.4\n",
        "fc00::1 ",
        "1.2.3.256",
        "1.2.3.0004",
        "1.2.3",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4::5:6:7:8",
        "12345::",
        "1::2::3",
        ":::",
        ":1::",
        "1::2:",
        "::1.2.3.256",
        "1.2.3.4::",
        "::g",
        "١.٢.٣.٤",  # Arabic-Indic digits: int() reads them, an address has none
        "",
    ],
)
def test_not_addresses(engine, text):
    assert parse(engine, [text]) == [(0, 0, None)]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("192.168.001.010", "192.168.1.10"),
        ("010.0.0.1", "10.0.0.1"),  # decimal, not octal as inet_aton reads it
        ("FC00::1", "fc00::1"),
        ("fc00:0:0::1", "fc00::1"),
        ("fc00:0000:0000:0000:0000:0000:0000:0001", "fc00::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  # the first of equal runs
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  # the longest run
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  # a single zero group stays
        ("::", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("::FFFF:1.2.3.4", "::ffff:102:304"),
        ("::ffff:001.002.003.004", "::ffff:102:304"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
    ],
)
def test_canonical_text(engine, text, canonical):
    assert parse(engine, [text])[0][2] == canonical


# -- build --------------------------------------------------------------------------------------------------


def build(engine: DuckDBEngine, texts: list[str], internal=INTERNAL) -> ipdim.IpDimension:
    engine.register("texts", pa.table({"ip": pa.array(texts, pa.string())}))
    return ipdim.build(engine, "SELECT DISTINCT ip FROM texts", internal, open_country_db(None), None)


def rows(dim: ipdim.IpDimension) -> dict[str, dict]:
    return {r["ip"]: r for r in dim.table.to_pylist()}


def test_build_columns_classes_and_countries(engine):
    dim = build(engine, ["8.8.8.8", "192.168.1.9", "2001:4860::8888", "fd00:104::1", "::ffff:8.8.8.8", "fe80::1"])
    assert dim.table.column_names == [
        *("ip", "version", "ip_num", "hi", "lo", "canonical", "class", "country", "as_org"),
        *("asn", "as_name", "city", "address_class"),
    ]
    r = rows(dim)
    assert r["8.8.8.8"] | {} == {
        "ip": "8.8.8.8",
        "version": 4,
        "ip_num": 0x08080808,
        "hi": None,
        "lo": None,
        "canonical": "8.8.8.8",
        "class": "public",
        "country": "US",
        "as_org": None,
        "asn": None,
        "as_name": None,
        "city": None,
        "address_class": "public",
    }
    assert (r["2001:4860::8888"]["hi"], r["2001:4860::8888"]["lo"]) == (0x2001_4860_0000_0000, 0x8888)
    assert r["2001:4860::8888"]["ip_num"] is None
    assert [r[ip]["class"] for ip in ("192.168.1.9", "2001:4860::8888", "fd00:104::1", "fe80::1")] == [
        "internal",
        "public",
        "internal",
        "special",
    ]
    assert [r[ip]["address_class"] for ip in ("192.168.1.9", "fd00:104::1", "fe80::1")] == [
        "internal",
        "internal",
        "link-local",
    ]
    assert r["2001:4860::8888"]["country"] == "US"
    assert r["::ffff:8.8.8.8"]["country"] == "US"  # looked up as its IPv4 address
    assert dim.bad == ()
    assert dim.aliases == {"::ffff:8.8.8.8": "::ffff:808:808"}


def test_bad_texts_and_aliases(engine):
    texts = ["192.168.1.10", "192.168.001.010", "FC00::1", "fc00:0:0::1", "fe80::1%eth0", "banana", "2A00:1450::1"]
    dim = build(engine, texts)
    assert dim.bad == ("banana", "fe80::1%eth0")
    assert dim.aliases == {
        "192.168.001.010": "192.168.1.10",
        "FC00::1": "fc00::1",
        "fc00:0:0::1": "fc00::1",
        "2A00:1450::1": "2a00:1450::1",
    }
    r = rows(dim)
    # Canonical spellings absent from the capture get a row of their own, once.
    assert sorted(r) == sorted([*texts, "fc00::1", "2a00:1450::1"])
    assert len(dim.table) == len(r)
    assert r["fc00::1"]["class"] == r["FC00::1"]["class"] == "internal"
    assert r["2a00:1450::1"]["country"] == r["2A00:1450::1"]["country"] == "IE"
    assert r["banana"]["canonical"] is None and r["banana"]["version"] is None


def test_declared_ipv6_internal_network(engine):
    internal = netclass.parse_cidrs("fd00:104::/64", "--internal")
    r = rows(build(engine, ["fd00:104::5", "fd00:105::5"], internal))
    assert (r["fd00:104::5"]["class"], r["fd00:105::5"]["class"]) == ("internal", "special")


def test_no_python_per_address_on_ipv6(engine, monkeypatch):
    """IPv6 goes through the engine and numpy: ipaddress is never asked about an address."""
    calls = []
    monkeypatch.setattr(ipaddress, "ip_address", lambda text: calls.append(text))
    build(engine, [f"2001:db8::{i:x}" for i in range(100)])
    assert calls == []


def test_empty(engine):
    dim = build(engine, [])
    assert len(dim.table) == 0 and dim.bad == () and dim.aliases == {}


def test_many_addresses_keep_their_order(engine):
    """The full parser's answers are put back in place across DuckDB's parallel, unordered output."""
    values = np.random.default_rng(0).integers(0, 2**63, size=(5000, 2), dtype=np.uint64)
    texts = [str(ipaddress.IPv6Address(int(h) << 64 | int(lo))).upper() for h, lo in values]
    r = rows(build(engine, texts))
    for (h, lo), t in zip(values.tolist(), texts, strict=True):
        assert (r[t]["hi"], r[t]["lo"], r[t]["canonical"]) == (h, lo, t.lower())


def test_build_with_the_default_stack_has_as_for_ipv4_and_ipv6(engine):
    from sentinel.enrich.databases import open_stack

    engine.register("texts", pa.table({"ip": ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8", "10.0.0.1"]}))
    stack = open_stack(use_cache=False)
    r = rows(ipdim.build(engine, "SELECT DISTINCT ip FROM texts", INTERNAL, stack))
    for ip in ("8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"):
        assert r[ip]["asn"] == 15169 and r[ip]["as_org"].startswith("AS15169 Google"), ip
    assert (r["10.0.0.1"]["asn"], r["10.0.0.1"]["as_org"], r["10.0.0.1"]["country"]) == (None, None, None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | st.integers(0, 2**63 - 1),
            st.none() | st.sampled_from(["", " ", "Google LLC", "AS7 Ünïcode", "x\ny"]) | st.text(max_size=5),
        ),
        max_size=20,
    )
)
def test_as_org_texts_is_the_legacy_form_of_every_pair(pairs):
    from sentinel.enrich.geodb import as_org_text, as_org_texts

    def one(asn, name):  # the legacy GeoIPASNum form, one pair at a time, as it was first written
        if asn is None:
            return name
        return f"AS{asn} {name}" if name else f"AS{asn}"

    asn = pa.array([a for a, _ in pairs], pa.int64())
    name = pa.array([n for _, n in pairs], pa.string())
    assert as_org_texts(asn, name).to_pylist() == [one(a, n) for a, n in pairs]
    assert [as_org_text(a, n) for a, n in pairs] == [one(a, n) for a, n in pairs]
