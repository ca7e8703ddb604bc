import time

from sentinel import pipeline
from sentinel.config import Config
from sentinel.enrich.rdns import system_resolver
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
