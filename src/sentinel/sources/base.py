"""A source maps one input format to the canonical flow schema as an engine view named `raw_flows`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceInfo:
    sources: tuple[str, ...]
    format: str
    rows: int  # rows in the input, before malformed ones are set aside
    extra_columns: tuple[str, ...] = field(default_factory=tuple)  # present but not used (e.g. label)
    # Set when file metadata alone proves that no row is malformed (Parquet column statistics): the
    # run then skips the validating pass. first/last timestamps come from the same statistics.
    proven_clean: bool = False
    first_ts: int | None = None
    last_ts: int | None = None


#: Why a row is set aside as malformed: reason -> SQL predicate over canonical columns. Rows matching
#: any are counted per reason and reported, never analysed (and never crash the run).
MALFORMED: dict[str, str] = {
    "missing timestamp": "timestamp IS NULL",
    "missing src_ip": "src_ip IS NULL OR src_ip = ''",
    "missing dst_ip": "dst_ip IS NULL OR dst_ip = ''",
    "missing proto": "proto IS NULL",
    "port outside 0-65535": "port IS NULL OR port < 0 OR port > 65535",
    "missing or negative bytes": "up_bytes IS NULL OR down_bytes IS NULL OR up_bytes < 0 OR down_bytes < 0",
}

#: Rows whose addresses are not IPv4/IPv6 text are found per distinct address (sentinel.enrich.ipdim).
BAD_ADDRESS = "unparseable src_ip or dst_ip"

WELL_FORMED_SQL = "NOT ((" + ") OR (".join(MALFORMED.values()) + "))"
