"""`sentinel geoip update` against a local HTTP server on 127.0.0.1 serving .mmdb.gz fixtures written by the
test (mmdb-writer), never the internet; then `sentinel geoip lookup/info` and a run using the cached files."""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import io
import json
import threading
from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from sentinel import cli, pipeline
from sentinel.config import Config
from sentinel.enrich import update
from sentinel.enrich.databases import CACHED_FILES, cached_databases
from sentinel.errors import ExitStatus, GeoIPError
from sentinel.registry import default_params
from tests.flows import flow, write_flows

TODAY = dt.date(2026, 11, 30)


def fixture(kind: str, networks: dict[str, dict]) -> bytes:
    """A tiny DB-IP-like .mmdb, gzip-compressed, as DB-IP serves it."""
    writer = MMDBWriter(ip_version=6, database_type=kind, description={"en": f"test {kind}"}, ipv4_compatible=True)
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    buffer = io.BytesIO()
    path = Path(__import__("tempfile").mkdtemp()) / "f.mmdb"
    writer.to_db_file(str(path))
    buffer.write(path.read_bytes())
    return gzip.compress(buffer.getvalue())


COUNTRY = {"1.1.1.0/24": {"country": {"iso_code": "AU"}}, "8.8.8.0/24": {"country": {"iso_code": "US"}}}
ASN = {
    "1.1.1.0/24": {"autonomous_system_number": 13335, "autonomous_system_organization": "Cloudflare, Inc."},
    "8.8.8.0/24": {"autonomous_system_number": 64500, "autonomous_system_organization": "Test <b>Org</b>"},
}


class Server:
    """Serves `files` (name -> bytes) on 127.0.0.1; a name mapped to an int answers with that HTTP status."""

    def __init__(self, files: dict[str, bytes | int]) -> None:
        self.files = files
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                outer.requests.append(name)
                body = outer.files.get(name, 404)
                if isinstance(body, int):
                    self.send_error(body)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/free"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SENTINEL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "geoip"


def good_files(month: str = "2026-11") -> dict[str, bytes | int]:
    return {
        f"dbip-country-lite-{month}.mmdb.gz": fixture("DBIP-Country-Lite", COUNTRY),
        f"dbip-asn-lite-{month}.mmdb.gz": fixture("DBIP-ASN-Lite", ASN),
    }


def test_update_installs_both_and_runs_use_them(cache, tmp_path, capsys):
    progress: list[tuple[str, int, int | None]] = []
    with Server(good_files()) as server:
        done = update.update(base=server.url, today=TODAY, progress=lambda *a: progress.append(a))
    assert [u.path.name for u in done] == [CACHED_FILES["country"], CACHED_FILES["asn"]]
    assert all(u.path.parent == cache and u.path.stat().st_size == u.bytes for u in done)
    assert progress and progress[-1][1] == progress[-1][2]  # the bar reached the announced size
    assert not list(cache.glob(".download-*"))  # no temporary file left
    assert [d.info.provides for d in cached_databases()] == [("country",), ("asn",)]
    # A later run uses them, and says so.
    data = write_flows(tmp_path / "f.parquet", [flow(0, "192.168.1.2", "8.8.8.8"), flow(1, "192.168.1.2", "1.1.1.1")])
    report = pipeline.run(Config(data=data, units={"country_volume": default_params("country_volume")}))
    assert any("sentinel geoip update" in n and "DB-IP" in n for n in report.notes)
    assert report.enrichment["as_org"].startswith("cache: ")
    rows = {r["country"]: r for r in report.section("country_volume").json()["rows"]}
    assert set(rows) == {"US", "AU"}
    # lookup says which database answered; names from a database are shown as text, never markup.
    assert cli.main(["geoip", "lookup", "8.8.8.8", "--json"]) == ExitStatus.OK
    row = json.loads(capsys.readouterr().out)
    assert row["as_org"] == "AS64500 Test <b>Org</b>" and row["as_from"].startswith("cache: ")
    assert cli.main(["geoip", "info"]) == ExitStatus.OK
    out = capsys.readouterr().out
    assert "DBIP-ASN-Lite" in out and "CC BY 4.0" in out and "2026-" in out


def test_update_falls_back_to_last_month(cache):
    with Server(good_files("2026-10")) as server:
        done = update.update(base=server.url, today=TODAY)
    assert [u.url.rsplit("/", 1)[-1] for u in done] == [
        "dbip-country-lite-2026-10.mmdb.gz",
        "dbip-asn-lite-2026-10.mmdb.gz",
    ]
    assert server.requests[0] == "dbip-country-lite-2026-11.mmdb.gz"


def install_good(cache) -> dict[str, bytes]:
    with Server(good_files()) as server:
        update.update(base=server.url, today=TODAY)
    return {name: (cache / name).read_bytes() for name in CACHED_FILES.values()}


@pytest.mark.parametrize(
    ("asn_body", "message"),
    [
        (b"<html>not found</html>", "not a gzip file"),
        (gzip.compress(b"x" * 5000), "not a usable MaxMind DB"),
        (500, "HTTP 500"),
        ("country-as-asn", "a 'DBIP-Country-Lite' database, not 'DBIP-ASN-Lite'"),
    ],
    ids=["html", "not-mmdb", "http-500", "wrong-type"],
)
def test_a_bad_download_keeps_what_was_there(cache, asn_body, message):
    before = install_good(cache)
    files = good_files()
    files["dbip-asn-lite-2026-11.mmdb.gz"] = (
        files["dbip-country-lite-2026-11.mmdb.gz"] if asn_body == "country-as-asn" else asn_body
    )
    with Server(files) as server, pytest.raises(GeoIPError, match=message):
        update.update(base=server.url, today=TODAY)
    assert {name: (cache / name).read_bytes() for name in CACHED_FILES.values()} == before  # both untouched
    assert not list(cache.glob(".download-*"))


def test_a_much_smaller_file_is_refused(cache):
    big = {f"{i}.{j}.0.0/16": {"country": {"iso_code": "AU"}} for i in range(1, 40) for j in range(0, 256, 3)}
    files = good_files()
    files["dbip-country-lite-2026-11.mmdb.gz"] = fixture("DBIP-Country-Lite", COUNTRY | big)
    with Server(files) as server:
        update.update(base=server.url, today=TODAY)
    before = (cache / CACHED_FILES["country"]).read_bytes()
    with Server(good_files()) as server, pytest.raises(GeoIPError, match="under half"):
        update.update(base=server.url, today=TODAY)
    assert (cache / CACHED_FILES["country"]).read_bytes() == before


def test_offline_fails_in_one_line(cache, capsys, monkeypatch):
    before = install_good(cache)
    with Server({}) as server:
        url = server.url
    monkeypatch.setenv(update.URL_ENV, url)  # the server is gone: connection refused
    assert cli.main(["geoip", "update", "-q"]) == ExitStatus.GEOIP
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot download" in err and "kept the databases already there" in err
    assert {name: (cache / name).read_bytes() for name in CACHED_FILES.values()} == before


def test_cli_update_draws_a_progress_bar(cache, capsys, monkeypatch):
    with Server(good_files()) as server:
        monkeypatch.setenv(update.URL_ENV, server.url)
        assert cli.main(["geoip", "update"]) == ExitStatus.OK
    err = capsys.readouterr().err
    assert "dbip-asn-lite-2026-" in err and "100%" in err and err.count("installed ") == 2


def test_lookup_and_info_errors(capsys):
    assert cli.main(["geoip", "lookup", "not-an-ip"]) == ExitStatus.USAGE
    assert "'not-an-ip' is not an IPv4 or IPv6 address" in capsys.readouterr().err
    assert cli.main(["geoip"]) == ExitStatus.USAGE
    assert cli.main(["geoip", "info", "--geoip-db", "/nonexistent.mmdb"]) == ExitStatus.GEOIP
