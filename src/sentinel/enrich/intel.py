"""Threat-intelligence lists of addresses and networks, in the shapes SOCs keep them.

- **one entry a line** (Spamhaus DROP/EDROP, FireHOL `.netset`/`.ipset`, most blocklists): an address or a
  CIDR, then optionally a comment after `;` or `#` (`1.10.16.0/20 ; SBL256894`); lines starting with `#` or
  `;` are comments. Spamhaus's JSON lines (`{"cidr": "1.10.16.0/20", "sblid": "SBL256894", ...}`) too.
- **CSV with a header**, the header possibly commented (abuse.ch Feodo Tracker's `ipblocklist.csv`:
  `# "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"`), MISP CSV exports
  (`uuid,event_id,category,type,value,comment,...`, IP types only: `ip-dst`, `ip-src`, `ip-dst|port`, ...),
  OpenCTI CSV exports of indicators or observables (`value`/`observable_value`, or a STIX `pattern` such as
  `[ipv4-addr:value = '1.2.3.4']`). The address column and a comment column are found by name.

A list's name is its file name. Every entry keeps its text as the list wrote it and the comment (the SBL id,
the malware family, the MISP comment): alerts quote them. Lines that hold no address are counted, not fatal;
a list with no entry at all is an error (exit status 3, naming the file).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import os
import re
from dataclasses import dataclass

from sentinel.errors import InputError
from sentinel.files import unusable_reason

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Header names of the column holding the address, most specific first.
ADDRESS_COLUMNS = (
    "dst_ip",
    "ip",
    "ip_address",
    "ipaddress",
    "ip-dst",
    "observable_value",
    "value",
    "indicator",
    "cidr",
    "network",
    "address",
    "pattern",
)
#: Header names of columns worth quoting as the entry's comment, in order (joined with " / ").
COMMENT_COLUMNS = ("malware", "malware_family", "threat", "comment", "description", "category", "tags", "labels")
#: MISP attribute types whose value is an address ("ip-dst|port": "1.2.3.4|443").
MISP_IP_TYPES = frozenset({"ip-dst", "ip-src", "ip-dst|port", "ip-src|port", "ip"})
_STIX = re.compile(r"ipv[46]-addr:value\s*=\s*'([^']+)'")
_MAX_COMMENT = 200


@dataclass(frozen=True)
class Entry:
    network: IPNetwork
    text: str  # as the list wrote it
    comment: str  # "" where none
    line: int


@dataclass(frozen=True)
class IntelList:
    name: str  # the file name
    path: str
    entries: tuple[Entry, ...]
    skipped: int  # lines that held no address
    shape: str  # "lines", "json lines", "csv"


def load(path: str | os.PathLike[str]) -> IntelList:
    """The list in `path`. Raises InputError naming the file where it cannot be read or holds no entry."""
    path = os.fspath(path)
    reason = unusable_reason(path, "a list file")
    if reason:
        raise InputError(path, f"--intel: {reason}")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise InputError(path, f"--intel: cannot read the file ({exc.strerror or exc})") from None
    if raw.startswith(b"\x1f\x8b"):
        import gzip

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputError(path, f"--intel: a damaged gzip file ({exc})") from None
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    header = _csv_header(lines)
    if header is not None:
        entries, skipped = _from_csv(lines, *header)
        shape = "csv"
    elif any(ln.lstrip().startswith("{") for ln in lines[:50]):
        entries, skipped = _from_json_lines(lines)
        shape = "json lines"
    else:
        entries, skipped = _from_lines(lines)
        shape = "lines"
    if not entries:
        raise InputError(
            path, "--intel: no address or network in the list (one per line, or a CSV export with an IP column)"
        )
    return IntelList(os.path.basename(path), path, tuple(entries), skipped, shape)


def parse_network(text: str) -> IPNetwork | None:
    """An address or CIDR as lists write them; host bits set (1.2.3.4/24) are read as that network."""
    text = text.strip().strip('"').strip("'").strip()
    if not text or len(text) > 64:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _clean(comment: str) -> str:
    return " ".join(comment.split())[:_MAX_COMMENT]


def _from_lines(lines: list[str]) -> tuple[list[Entry], int]:
    entries: list[Entry] = []
    skipped = 0
    for number, line in enumerate(lines, start=1):
        body = line.strip()
        if not body or body[0] in "#;":
            continue
        cut = min((i for i in (body.find(";"), body.find("#")) if i >= 0), default=-1)
        value, comment = (body[:cut], body[cut + 1 :]) if cut >= 0 else (body, "")
        token = value.split()[0] if value.split() else ""
        if value.split()[1:] and not comment:  # "1.2.3.4 some words" (a few lists put the comment after a space)
            comment = " ".join(value.split()[1:])
        network = parse_network(token.split(",")[0])
        if network is None:
            skipped += 1
            continue
        entries.append(Entry(network, token, _clean(comment), number))
    return entries, skipped


def _from_json_lines(lines: list[str]) -> tuple[list[Entry], int]:
    entries: list[Entry] = []
    skipped = 0
    for number, line in enumerate(lines, start=1):
        body = line.strip()
        if not body or body[0] in "#;":
            continue
        try:
            record = json.loads(body)
        except ValueError:
            skipped += 1
            continue
        if not isinstance(record, dict):
            skipped += 1
            continue
        value = next((str(record[k]) for k in ("cidr", "ip", "value", "network") if k in record), "")
        network = parse_network(value)
        if network is None:
            if not ("type" in record and "cidr" not in record):  # Spamhaus's trailing metadata line is no entry
                skipped += 1
            continue
        comment = " / ".join(str(record[k]) for k in ("sblid", "malware", "comment", "rir") if record.get(k))
        entries.append(Entry(network, value, _clean(comment), number))
    return entries, skipped


def _csv_header(lines: list[str]) -> tuple[int, list[str]] | None:
    """(line index, column names) of a CSV header naming an address column, commented or not."""
    for index, line in enumerate(lines[:200]):
        body = line.strip()
        if not body:
            continue
        candidate = body.lstrip("#").strip()
        if "," not in candidate:
            if body.startswith("#"):
                continue
            return None  # a data line before any header: not a CSV export
        names = [n.strip().strip('"').strip().lower() for n in next(csv.reader([candidate]))]
        if any(n in ADDRESS_COLUMNS for n in names):
            return index, names
        if not body.startswith("#"):
            return None
    return None


def _from_csv(lines: list[str], header_index: int, names: list[str]) -> tuple[list[Entry], int]:
    address = next(names.index(c) for c in ADDRESS_COLUMNS if c in names)
    comments = [names.index(c) for c in COMMENT_COLUMNS if c in names]
    misp_type = names.index("type") if "type" in names and "value" in names else None
    entries: list[Entry] = []
    skipped = 0
    body = [
        (n, ln)
        for n, ln in enumerate(lines, start=1)
        if n > header_index + 1 and ln.strip() and not ln.lstrip().startswith("#")
    ]
    rows = csv.reader(io.StringIO("\n".join(ln for _, ln in body)))
    for (number, _), row in zip(body, rows, strict=False):
        if address >= len(row):
            skipped += 1
            continue
        if misp_type is not None and misp_type < len(row) and row[misp_type].strip().lower() not in MISP_IP_TYPES:
            continue  # a MISP attribute of another type (domain, hash, ...): not an address, not an error
        value = row[address].strip()
        network = _address_in(value)
        if network is None:
            skipped += 1
            continue
        comment = " / ".join(row[i].strip() for i in comments if i < len(row) and row[i].strip())
        entries.append(Entry(network, value, _clean(comment), number))
    return entries, skipped


def _address_in(value: str) -> IPNetwork | None:
    """The address in a CSV value: plain, "ip|port" (MISP), "ip:port" (IPv4), or a STIX pattern."""
    network = parse_network(value)
    if network is not None:
        return network
    stix = _STIX.search(value)
    if stix:
        return parse_network(stix.group(1))
    for sep in ("|", ":"):
        head = value.split(sep)[0]
        if head != value and (network := parse_network(head)) is not None and (sep == "|" or network.version == 4):
            return network
    return None
