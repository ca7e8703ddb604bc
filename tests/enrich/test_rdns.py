import json
import time

from sentinel import pipeline
from sentinel.config import Config
from sentinel.enrich.rdns import MAX_NAME, NEGATIVE_TTL_S, TTL_S, RdnsCache, system_resolver
from sentinel.registry import default_params
from sentinel.report import markdown
from tests.flows import flow, write_flows


def test_slow_lookups_are_abandoned_at_the_deadline():
    def lookup(ip: str) -> str | None:
        if ip == "10.0.0.2":
            time.sleep(5)
        return f"host-{ip}.example"

    started = time.monotonic()
    names = system_resolver(timeout_s=0.3, lookup=lookup)(["10.0.0.1", "10.0.0.2"])
    assert time.monotonic() - started < 2
    assert names == {"10.0.0.1": "host-10.0.0.1.example"}


def test_names_reach_the_report_only_when_asked(tmp_path):
    members = ["192.168.1.11", "192.168.1.12", "192.168.1.13"]
    rows = [flow(10 * i + j, a, b, port=40000) for i, a in enumerate(members) for j, b in enumerate(members) if a != b]
    path = write_flows(tmp_path / "f.parquet", rows)
    units = {"botnet": default_params("botnet")}
    fake = system_resolver(lookup=lambda ip: "<b>pc-" + ip.rsplit(".", 1)[1] + "</b>")
    quiet = pipeline.run(Config(data=path, units=units), resolver=fake)
    assert all(h.dns_name is None for h in quiet.hosts.values())
    named = pipeline.run(Config(data=path, units=units, resolve_dns=True), resolver=fake)
    assert named.hosts["192.168.1.11"].dns_name == "<b>pc-11</b>"
    text = markdown.render(named, {})
    assert "| &lt;b&gt;pc-11&lt;/b&gt; |" in text  # the name, escaped, in the alert's address table
    assert "<b>" not in text


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_cache_answers_without_asking_until_it_expires(tmp_path):
    clock = Clock()
    asked: list[str] = []

    def lookup(ip: str) -> str | None:
        asked.append(ip)
        return None if ip == "10.0.0.9" else f"h{ip.rsplit('.', 1)[1]}.example"

    path = tmp_path / "rdns.json"
    first = system_resolver(lookup=lookup, cache=RdnsCache(path, clock))(["10.0.0.1", "10.0.0.9"])
    assert first == {"10.0.0.1": "h1.example"} and sorted(asked) == ["10.0.0.1", "10.0.0.9"]
    # A later run (a new cache object reading the file) asks nothing while the entries are valid.
    asked.clear()
    assert system_resolver(lookup=lookup, cache=RdnsCache(path, clock))(["10.0.0.1", "10.0.0.9"]) == first
    assert asked == []
    # "No name" expires after an hour, a name after a day.
    clock.now += NEGATIVE_TTL_S + 1
    system_resolver(lookup=lookup, cache=RdnsCache(path, clock))(["10.0.0.1", "10.0.0.9"])
    assert asked == ["10.0.0.9"]
    clock.now += TTL_S
    asked.clear()
    system_resolver(lookup=lookup, cache=RdnsCache(path, clock))(["10.0.0.1"])
    assert asked == ["10.0.0.1"]


def test_timeouts_are_not_remembered(tmp_path):
    def slow(ip: str) -> str | None:
        time.sleep(2)
        return "late.example"

    path = tmp_path / "rdns.json"
    assert system_resolver(timeout_s=0.1, lookup=slow, cache=RdnsCache(path))(["10.0.0.1"]) == {}
    assert RdnsCache(path).get("10.0.0.1") == (False, None)


def test_a_damaged_or_hostile_cache_file_is_ignored(tmp_path):
    path = tmp_path / "rdns.json"
    for content in ("{not json", '{"version": 1, "entries": {"10.0.0.1": ["x", "soon"], "10.0.0.2": 5}}', "[]"):
        path.write_text(content)
        cache = RdnsCache(path)
        assert cache.get("10.0.0.1") == (False, None) and cache.get("10.0.0.2") == (False, None)
    names = system_resolver(lookup=lambda ip: "ok.example", cache=RdnsCache(path))(["10.0.0.1"])
    assert names == {"10.0.0.1": "ok.example"}
    assert json.loads(path.read_text())["entries"]["10.0.0.1"][0] == "ok.example"


def test_names_are_untrusted_text_everywhere(tmp_path):
    hostile = "\x1b[31mevil\u202e<script>|x|" + "a" * 400
    members = ["192.168.1.11", "192.168.1.12", "192.168.1.13"]
    rows = [flow(10 * i + j, a, b, port=40000) for i, a in enumerate(members) for j, b in enumerate(members) if a != b]
    path = write_flows(tmp_path / "f.parquet", rows)
    resolver = system_resolver(lookup=lambda ip: hostile, cache=RdnsCache(tmp_path / "rdns.json"))
    report = pipeline.run(
        Config(data=path, units={"botnet": default_params("botnet")}, resolve_dns=True), resolver=resolver
    )
    name = report.hosts["192.168.1.11"].dns_name
    assert name is not None and len(name) == MAX_NAME  # cut to the longest DNS name
    text = markdown.render(report, {})
    assert "\x1b" not in text and "\u202e" not in text and "<script>" not in text
    assert "\\\\x1b\\[31mevil\\\\u202e&lt;script&gt;\\|x\\|" in text  # shown as text, inert
