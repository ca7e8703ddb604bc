"""simulate(): assemble the office day, inject the attacks, sort, and build the table and labels."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sentinel.simulate import (  # attacks_scan registers its kinds
    attacks_scan,  # noqa: F401
    benign_dnslat,
    benign_scan,
    office,
)
from sentinel.simulate.addresses import (
    PUBLIC_NTP,
    PUBLIC_RESOLVERS,
    UPDATE_SERVER,
    AddressBook,
    Layout,
    external_pool,
    ip_int,
)
from sentinel.simulate.attacks import ATTACK_KINDS, Attack, AttackContext, AttackKind
from sentinel.simulate.config import SimulationConfig
from sentinel.simulate.flows import FlowBatch
from sentinel.simulate.labels import Names, build_labels
from sentinel.simulate.office import EXTERNAL_SHARE, Hosts, Places


@dataclass
class Simulation:
    flows: pa.Table  # exactly sentinel.schema.COURSE_ARROW_SCHEMA, sorted by timestamp
    labels: dict  # ground truth (see labels.build_labels)


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per component: adding one (an attack kind) leaves the others alone."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def pool_size(flows: int) -> int:
    return int(np.clip(flows // 5, 1000, 250_000))


def build_places(config: SimulationConfig, book: AddressBook) -> Places:
    network = config.ipv4_network()
    layout = Layout.build(network, config.hosts)
    clients = book.add(layout.clients)
    servers = {role: book.add(ints) for role, ints in layout.servers.items()}
    first_external = len(book)
    specials = [ip_int(a) for a in (UPDATE_SERVER, *PUBLIC_RESOLVERS, *PUBLIC_NTP)]
    update, *_ = book.add(specials[:1])
    resolvers = book.add(specials[1 : 1 + len(PUBLIC_RESOLVERS)])
    public_ntp = book.add(specials[1 + len(PUBLIC_RESOLVERS) :])
    pool = external_pool(stream(config.seed, "pool"), pool_size(config.flows), np.array(specials, np.uint32), network)
    return Places(clients, servers, int(update), resolvers, public_ntp, book.add(pool.ints), first_external)


def median_client_upload(places: Places, batches: list[FlowBatch]) -> int:
    """Median over clients of the bytes each uploaded to the Internet."""
    per_client = np.zeros(len(places.clients))
    for flows in batches:
        outbound = (flows.src < len(places.clients)) & (flows.dst >= places.first_external)
        per_client += np.bincount(flows.src[outbound], weights=flows.up[outbound], minlength=len(places.clients))[
            : len(places.clients)
        ]
    return int(np.median(per_client))


def inject_attacks(
    config: SimulationConfig, places: Places, book: AddressBook, benign_outbound: list[FlowBatch]
) -> list[tuple[AttackKind, Attack]]:
    if not config.attacks:
        return []
    median = median_client_upload(places, benign_outbound)
    free = places.clients.tolist()  # shared, so no client is in two attacks
    return [
        (kind, kind(AttackContext(stream(config.seed, f"attack:{name}"), places, book, median, free)))
        for name, kind in ATTACK_KINDS.items()
    ]


def scan_look_alikes(config: SimulationConfig, places: Places, book: AddressBook) -> tuple[list[FlowBatch], int | None]:
    """Benign look-alikes of scans, on days with attacks (the days detectors are measured on) of 100k flows
    or more: a nightly vulnerability scan."""
    if not config.attacks or config.flows < benign_scan.MIN_DAY_FLOWS:
        return [], None
    vuln, scanner = benign_scan.vulnerability_scan(
        stream(config.seed, "vulnerability_scan"), config.ipv4_network(), config.hosts, places, book
    )
    return ([vuln] if vuln is not None else []), scanner


def simulate(config: SimulationConfig) -> Simulation:
    """A reproducible office day of exactly config.flows flows, with ground-truth labels."""
    config.validate()
    seed = config.seed
    book = AddressBook()
    places = build_places(config, book)
    hosts = Hosts.draw(stream(seed, "hosts"), config.hosts)

    updates = office.update_checks(stream(seed, "updates"), places, hosts)
    ntp = office.ntp_sync(stream(seed, "ntp"), places)
    backup = office.nightly_backup(stream(seed, "backup"), places, config.flows)
    login = office.login_traffic(stream(seed, "login"), places, hosts)
    periodic = len(updates) + len(ntp) + len(backup)
    # The external share is fixed before attacks, so attacks=True keeps the same benign Internet
    # traffic; attack rows come out of the internal traffic instead.
    n_external = round(EXTERNAL_SHARE * (config.flows - periodic))
    external = office.external_traffic(stream(seed, "external"), n_external, places, hosts)
    attacks = inject_attacks(config, places, book, [updates, external])
    look_alikes, scanner = scan_look_alikes(config, places, book)
    look_alikes += [
        benign_dnslat.backup_pull(stream(seed, "backup_pull"), places),
        benign_dnslat.busy_dns_server(stream(seed, "busy_dns"), places, config.flows),
    ]
    used = periodic + len(login) + len(external) + sum(len(result.flows) for _, result in attacks)
    used += sum(len(b) for b in look_alikes)
    internal = office.internal_traffic(stream(seed, "internal"), config.flows - used, places, hosts)

    day = FlowBatch.concat(
        [updates, ntp, backup, login, external, *internal, *look_alikes, *(result.flows for _, result in attacks)]
    )
    book_strings = book.strings()
    labels = build_labels(config, places, Names(book_strings), backup, attacks)
    benign = labels["benign"]
    assert isinstance(benign, list)
    benign += benign_scan.labels(Names(book_strings), scanner)
    benign += benign_dnslat.labels(places, Names(book_strings))
    return Simulation(day.sorted_table(book_strings), labels)
