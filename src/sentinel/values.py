"""Parsers of option values shared by the CLI and the units' flags: each raises a one-line ConfigError that
names the option, so a typo is exit status 2 before any data is read."""

from __future__ import annotations

from collections.abc import Callable

from sentinel.errors import ConfigError


def percentile(option: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{option}: {text!r} is not a number; give a percentile between 0 and 100") from None
        if not 0 <= value <= 100:
            raise ConfigError(f"{option}: {text} is outside 0-100; give a percentile such as 90")
        return value

    return parse


def given(option: str) -> Callable[[str], str]:
    """The value as typed, refusing an empty one: `--json ''` must not quietly mean "no JSON report"."""

    def parse(text: str) -> str:
        if not text.strip():
            raise ConfigError(f"{option}: the value is empty")
        return text

    return parse


def positive_int(option: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(f"{option}: {text!r} is not a whole number") from None
        if value <= 0:
            raise ConfigError(f"{option}: must be positive, got {value}")
        return value

    return parse
