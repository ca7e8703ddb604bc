"""The one interface every analysis and detector implements, so the pipeline, CLI, docs and tests treat
built-in units the way later plug-ins will be treated: by key, with declared, documented parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sentinel.report.model import Alert, Section

if TYPE_CHECKING:
    from sentinel.context import Context


@dataclass
class UnitResult:
    section: Section
    alerts: list[Alert] = field(default_factory=list)


class Unit(Protocol):
    key: ClassVar[str]  # snake_case; the JSON analyses key
    title: ClassVar[str]
    kind: ClassVar[str]  # "analysis" (descriptive tables) or "detector" (raises alerts)
    charts: ClassVar[tuple[str, ...]]  # keys of the charts its section has: their file names are reserved early
    Params: ClassVar[type]  # a dataclass; each field documented with sentinel.config.param
    # Optional canonical columns (sentinel.schema.OPTIONAL) the unit needs; where the input lacks one, the
    # pipeline skips the unit and every report says why. Units that need none may leave it out.
    needs: ClassVar[tuple[str, ...]]

    def run(self, ctx: Context, params: Any) -> UnitResult: ...
