"""Threat-intelligence list files in their common shapes, written by the tests (no third-party list copied)."""

from __future__ import annotations

import gzip
import ipaddress

import pytest

from sentinel.enrich import intel
from sentinel.errors import InputError


def entries(path) -> list[tuple[str, str, str]]:
    return [(str(e.network), e.text, e.comment) for e in intel.load(path).entries]


def test_one_entry_a_line_with_comments(tmp_path):
    path = tmp_path / "drop.txt"
    path.write_text(
        "; Spamhaus-style DROP list\n"
        "; Last-Modified: today\n"
        "1.10.16.0/20 ; SBL256894\n"
        "# FireHOL-style comment\n"
        "\n"
        "203.0.113.7\n"
        "2001:db8:bad::/48 # a v6 block\n"
        "not-an-address\n"
        "198.51.100.9 scanner seen twice\n"
    )
    assert entries(path) == [
        ("1.10.16.0/20", "1.10.16.0/20", "SBL256894"),
        ("203.0.113.7/32", "203.0.113.7", ""),
        ("2001:db8:bad::/48", "2001:db8:bad::/48", "a v6 block"),
        ("198.51.100.9/32", "198.51.100.9", "scanner seen twice"),
    ]
    loaded = intel.load(path)
    assert (loaded.name, loaded.shape, loaded.skipped) == ("drop.txt", "lines", 1)


def test_spamhaus_json_lines(tmp_path):
    path = tmp_path / "drop_v4.json"
    path.write_text(
        '{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}\n'
        '{"cidr":"2.56.192.0/22","sblid":"SBL459831","rir":"ripencc"}\n'
        '{"type":"metadata","timestamp":1700000000,"size":2,"records":2}\n'
    )
    loaded = intel.load(path)
    assert [(str(e.network), e.comment) for e in loaded.entries] == [
        ("1.10.16.0/20", "SBL256894 / apnic"),
        ("2.56.192.0/22", "SBL459831 / ripencc"),
    ]
    assert (loaded.shape, loaded.skipped) == ("json lines", 0)


def test_feodo_tracker_csv_with_a_commented_header(tmp_path):
    path = tmp_path / "ipblocklist.csv"
    path.write_text(
        "################################################################\n"
        "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #\n"
        "################################################################\n"
        '# "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\n'
        '"2024-01-01 10:00:00","192.0.2.10","443","online","2024-05-01","QakBot"\n'
        '"2024-01-02 10:00:00","198.51.100.20","8080","offline","2024-04-01","Emotet"\n'
        "# END 2 entries\n"
    )
    assert entries(path) == [
        ("192.0.2.10/32", "192.0.2.10", "QakBot"),
        ("198.51.100.20/32", "198.51.100.20", "Emotet"),
    ]
    assert intel.load(path).shape == "csv"


def test_misp_csv_export_keeps_ip_attributes_only(tmp_path):
    path = tmp_path / "misp.csv"
    path.write_text(
        "uuid,event_id,category,type,value,comment,to_ids,date\n"
        "5f1,12,Network activity,ip-dst,192.0.2.44,C2 of campaign X,1,1700000000\n"
        "5f2,12,Network activity,domain,evil.example,,1,1700000000\n"
        "5f3,12,Network activity,ip-dst|port,198.51.100.5|4444,reverse shell,1,1700000000\n"
        "5f4,12,Payload delivery,sha256,abc123,,1,1700000000\n"
    )
    assert entries(path) == [
        ("192.0.2.44/32", "192.0.2.44", "C2 of campaign X / Network activity"),
        ("198.51.100.5/32", "198.51.100.5|4444", "reverse shell / Network activity"),
    ]


def test_opencti_csv_export_with_stix_patterns(tmp_path):
    path = tmp_path / "opencti.csv"
    path.write_text(
        "id,entity_type,name,pattern,description\n"
        "x1,Indicator,bad,\"[ipv4-addr:value = '203.0.113.99']\",Cobalt Strike team server\n"
        "x2,Indicator,bad6,\"[ipv6-addr:value = '2001:db8::99']\",\n"
        "x3,Indicator,dom,\"[domain-name:value = 'evil.example']\",\n"
    )
    loaded = intel.load(path)
    assert [(str(e.network), e.comment) for e in loaded.entries] == [
        ("203.0.113.99/32", "Cobalt Strike team server"),
        ("2001:db8::99/128", ""),
    ]
    assert loaded.skipped == 1


def test_gzip_and_errors(tmp_path):
    packed = tmp_path / "list.txt.gz"
    packed.write_bytes(gzip.compress(b"192.0.2.1\n"))
    assert [e.network for e in intel.load(packed).entries] == [ipaddress.ip_network("192.0.2.1/32")]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\nhello\n")
    with pytest.raises(InputError, match=r"empty\.txt: --intel: no address or network"):
        intel.load(empty)
    with pytest.raises(InputError, match="no such file"):
        intel.load(tmp_path / "absent.txt")
    with pytest.raises(InputError, match="is a directory"):
        intel.load(tmp_path)
