"""Ground truth of a simulated day, as the JSON-serialisable dict written to OUT.labels.json."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from sentinel.simulate.attacks import Attack, AttackKind
from sentinel.simulate.config import SimulationConfig
from sentinel.simulate.flows import NTP_PERIOD_S, PROTOS, TCP, FlowBatch
from sentinel.simulate.office import BACKUP_PORT, Places

FORMAT = "sentinel-simulation-labels"
VERSION = 1


class Names:
    """Dotted strings of address-book indices."""

    def __init__(self, book: pa.StringArray) -> None:
        self._book = book

    def __call__(self, indices: Iterable[int] | np.ndarray) -> list[str]:
        return self._book.take(pa.array(np.fromiter(indices, dtype=np.int32))).to_pylist()

    def one(self, index: int) -> str:
        return self([index])[0]


def totals(flows: FlowBatch) -> dict[str, int]:
    """Exact extent and volume of a set of rows."""
    return {
        "start": int(flows.ts.min()),
        "end": int(flows.ts.max()),
        "flows": len(flows),
        "up_bytes": int(flows.up.sum()),
        "down_bytes": int(flows.down.sum()),
    }


def benign_labels(places: Places, names: Names, backup: FlowBatch) -> list[dict[str, object]]:
    backup_totals = totals(backup)
    del backup_totals["down_bytes"]
    return [
        {
            "kind": "update_check",
            "hosts": "clients",
            "dst_ip": names.one(places.update),
            "proto": "tcp",
            "port": 443,
            "period_s": 3600,
        },
        {
            "kind": "ntp",
            "hosts": names(places.servers["ntp"]),
            "dst_ips": names(places.public_ntp),
            "proto": "udp",
            "port": 123,
            "period_s": NTP_PERIOD_S,
        },
        {
            "kind": "nightly_backup",
            "hosts": names(places.servers["backup_host"]),
            "dst_ip": names.one(places.server("backup_nas")),
            "proto": PROTOS[TCP],
            "port": BACKUP_PORT,
            **backup_totals,
        },
    ]


def attack_label(kind: AttackKind, result: Attack, names: Names) -> dict[str, object]:
    return {
        "kind": kind.name,
        "alert_type": kind.alert_type,
        "hosts": names(result.hosts),
        "counterparts": names(result.counterparts),
        "proto": result.proto,
        "port": result.port,
        **totals(result.flows),
    }


def build_labels(
    config: SimulationConfig, places: Places, names: Names, backup: FlowBatch, attacks: list[tuple[AttackKind, Attack]]
) -> dict[str, object]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": config.as_dict(),
        "network": str(config.ipv4_network()),
        "clients": names(places.clients),
        "servers": {role: names(idx) for role, idx in places.servers.items()},
        "benign": benign_labels(places, names, backup),
        "attacks": [attack_label(kind, result, names) for kind, result in attacks],
    }
