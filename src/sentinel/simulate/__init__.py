"""Simulated office days of network flows with labelled attacks and ground truth.

    sim = simulate(SimulationConfig(hosts=200, flows=1_000_000, seed=0, attacks=True))
    write_simulation(sim, Path("day.parquet"))  # day.parquet + day.labels.json

The data is reproducible from the seed and drives Sentinel's detector tests and benchmarks.
"""

from sentinel.simulate.attacks import ATTACK_KINDS, Attack, AttackContext, AttackKind, attack
from sentinel.simulate.config import SimulationConfig
from sentinel.simulate.simulation import Simulation, simulate
from sentinel.simulate.write import labels_path_for, write_simulation

__all__ = [
    "ATTACK_KINDS",
    "Attack",
    "AttackContext",
    "AttackKind",
    "Simulation",
    "SimulationConfig",
    "attack",
    "labels_path_for",
    "simulate",
    "write_simulation",
]
