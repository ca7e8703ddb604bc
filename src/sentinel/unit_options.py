"""The units' part of the command line, generated from the registry: each unit's flags, `--detect KEY[,KEY...]`,
`--set KEY.PARAM=VALUE` for any documented parameter, and `--all`. A new unit needs no change here."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from sentinel.errors import ConfigError
from sentinel.units import Flag, Unit

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def dest(unit: Unit, flag: Flag) -> str:
    return f"unit__{unit.key}__{flag.names[-1].lstrip('-')}"


def add_unit_options(parser: argparse.ArgumentParser, units: Mapping[str, Unit]) -> None:
    group = parser.add_argument_group("analyses and detectors (default when none is chosen: --all)")
    for unit in units.values():
        for flag in getattr(unit, "flags", ()):
            if flag.param is None:
                group.add_argument(*flag.names, dest=dest(unit, flag), action="store_true", help=flag.help)
            else:
                group.add_argument(
                    *flag.names,
                    dest=dest(unit, flag),
                    metavar=flag.metavar or flag.param.upper(),
                    type=flag.parse,
                    action="append" if flag.repeat else "store",
                    help=flag.help,
                )
    group.add_argument(
        "--detect",
        metavar="KEY[,KEY...]",
        action="append",
        default=[],
        help=f"run these analyses and detectors (keys: {', '.join(units)})",
    )
    group.add_argument(
        "--set",
        metavar="KEY.PARAM=VALUE",
        action="append",
        default=[],
        dest="settings",
        help="set any documented parameter of a unit, e.g. beacon.min_connections=30 (see --list-params)",
    )
    group.add_argument("--all", action="store_true", help="every analysis and detector, at default settings")
    group.add_argument(
        "--list-params", action="store_true", help="list every analysis and detector with its parameters, and exit"
    )


def _keys(texts: Sequence[str], units: Mapping[str, Unit]) -> list[str]:
    keys = [k.strip() for text in texts for k in text.split(",")]
    for key in keys:
        if key not in units:
            raise ConfigError(f"--detect: unknown {key!r}; known: {', '.join(units)}")
    return keys


def convert(text: str, kind: Any, option: str) -> Any:
    """The text of a --set value as the parameter's declared type."""
    origin = typing.get_origin(kind)
    if origin is tuple:
        (item, *_rest) = typing.get_args(kind)
        return tuple(convert(part.strip(), item, option) for part in text.split(",") if part.strip())
    if kind is bool:
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise ConfigError(f"{option}: {text!r} is not true or false")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise ConfigError(f"{option}: {text!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if kind is str:
        if not text.strip():
            raise ConfigError(f"{option}: the value is empty")
        return text
    raise ConfigError(f"{option}: this parameter cannot be set from the command line")


def _setting(text: str, units: Mapping[str, Unit]) -> tuple[str, str, Any]:
    name, sep, value = text.partition("=")
    key, dot, param = name.strip().partition(".")
    if not sep or not dot:
        raise ConfigError(f"--set: {text!r} is not KEY.PARAM=VALUE")
    if key not in units:
        raise ConfigError(f"--set {name}: unknown unit {key!r}; known: {', '.join(units)}")
    hints = typing.get_type_hints(units[key].Params)
    if param not in hints:
        known = ", ".join(f.name for f in dataclasses.fields(units[key].Params))
        raise ConfigError(f"--set {name}: {key} has no parameter {param!r}; it has: {known}")
    return key, param, convert(value, hints[param], f"--set {name}")


def selected_units(args: argparse.Namespace, units: Mapping[str, Unit]) -> dict[str, Any]:
    """Each unit to run (in registry order) with its parameters: defaults, then its flags' values, then --set."""
    chosen: set[str] = set(_keys(args.detect, units))
    values: dict[str, dict[str, Any]] = {}
    for unit in units.values():
        for flag in getattr(unit, "flags", ()):
            given = getattr(args, dest(unit, flag), None)
            if given is None or given is False:
                continue
            chosen.add(unit.key)
            if flag.param is not None:
                values.setdefault(unit.key, {})[flag.param] = tuple(given) if flag.repeat else given
    run_all = args.all or not chosen
    selected = set(units) if run_all else chosen
    for text in args.settings:
        key, param, value = _setting(text, units)
        if key not in selected:
            raise ConfigError(f"--set {key}.{param}: {key} is not run; add --detect {key} (or its flag)")
        values.setdefault(key, {})[param] = value
    out: dict[str, Any] = {}
    for key, unit in units.items():
        if key in selected:
            try:
                out[key] = unit.Params(**values.get(key, {}))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{key}: {exc}") from None
    return out


def describe_units(units: Mapping[str, Unit]) -> str:
    """--list-params: every unit, its flags and its parameters with defaults and docs."""
    lines = []
    for unit in units.values():
        flags = ", ".join(n for f in getattr(unit, "flags", ()) for n in f.names)
        lines.append(f"{unit.key} ({unit.kind}): {unit.title}" + (f"  [{flags}]" if flags else ""))
        for f in dataclasses.fields(unit.Params):
            lines.append(f"  {unit.key}.{f.name} = {f.default!r}  {f.metadata.get('doc', '')}")
    return "\n".join(lines) + "\n"
