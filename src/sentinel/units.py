"""The one interface every analysis and detector implements, so the pipeline, CLI, docs and tests treat
built-in units the way later plug-ins will be treated: by key, with declared, documented parameters.

The command line is generated from the units (sentinel.registry): each unit's `flags` become options, and any
documented parameter can be set with `--set KEY.PARAM=VALUE`. Adding a unit touches neither cli.py nor
pipeline.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sentinel.errors import ConfigError
from sentinel.report.model import Alert, Section

if TYPE_CHECKING:
    from sentinel.config import Config
    from sentinel.context import Context


@dataclass
class UnitResult:
    section: Section
    alerts: list[Alert] = field(default_factory=list)


@dataclass(frozen=True)
class Flag:
    """A command-line option that selects its unit, and optionally sets one of its parameters.

    `param` None: a switch (`--beacon`). Otherwise the option takes a value (`-dx 90`) parsed by `parse`
    (which raises ConfigError naming the option) into that parameter; `repeat` collects several (`--intel A
    --intel B`) into a tuple.
    """

    names: tuple[str, ...]
    help: str
    param: str | None = None
    metavar: str | None = None
    parse: Callable[[str], Any] | None = None
    repeat: bool = False


class Unit(Protocol):
    key: ClassVar[str]  # snake_case; the JSON analyses key and the name --detect and --set use
    title: ClassVar[str]
    kind: ClassVar[str]  # "analysis" (descriptive tables) or "detector" (raises alerts)
    charts: ClassVar[tuple[str, ...]]  # keys of the charts its section has: their file names are reserved early
    Params: ClassVar[type]  # a dataclass; each field documented with sentinel.config.param
    # Optional canonical columns (sentinel.schema.OPTIONAL) the unit needs; where the input lacks one, the
    # pipeline skips the unit and every report says why. Units that need none may leave it out.
    needs: ClassVar[tuple[str, ...]]
    flags: ClassVar[tuple[Flag, ...]]  # its command-line options (may be empty: --detect KEY still selects it)

    def run(self, ctx: Context, params: Any) -> UnitResult: ...

    # Optional: `amend(ctx, params, report)`, called once every unit has run (in registry order), lets a unit
    # change the others' findings, e.g. threat_intel raises the score of alerts on listed addresses.
    # Optional: `start(ctx, params) -> Callable[[], UnitResult]` makes the unit's passes over the flows and
    # returns the rest of its work, which must not use the engine (the address dimension is fine): the
    # pipeline runs it on a worker thread while the next units make their passes, and takes the results in
    # the units' order. `run` must give what `start(ctx, params)()` gives (beacon's scoring).


class Detector:
    """What a detector unit may leave out: it raises alerts, draws no section chart (its alerts carry their
    own), needs no optional column and has no flag but `--detect KEY`, unless it says otherwise."""

    kind: ClassVar[str] = "detector"
    charts: ClassVar[tuple[str, ...]] = ()
    needs: ClassVar[tuple[str, ...]] = ()
    flags: ClassVar[tuple[Flag, ...]] = ()


def check_params(unit: Unit, params: Any, config: Config) -> None:
    """The bounds parameters declare (`param(..., minimum=, maximum=)`), then a unit's own check of its
    parameters against the run (e.g. -bn inside --internal), before any data is read; units define
    `check(params, config)` where they need one."""
    for f in fields(params):
        value, low, high = getattr(params, f.name), f.metadata.get("minimum"), f.metadata.get("maximum")
        if low is not None and value < low:
            raise ConfigError(f"{unit.key}.{f.name}: {value} must be at least {low}")
        if high is not None and value > high:
            raise ConfigError(f"{unit.key}.{f.name}: {value} must be at most {high}")
    check = getattr(unit, "check", None)
    if check is not None:
        check(params, config)
