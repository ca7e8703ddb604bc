"""Times of flows: raw microseconds in results, formatted only by renderers.

Results carry `Instant`s (an int of microseconds since the epoch that knows whether its day is real). A
course file read without --date has no real day: its clock starts at 00:00 of an unknown day, anchored
to 1970-01-01, and such instants render day-relative ("+07:54:42.00") rather than as an invented date.
"""

from __future__ import annotations

import datetime as dt

from sentinel.schema import US_PER_DAY, US_PER_SECOND

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Instant(int):
    """Microseconds since 1970-01-01 UTC; `relative` when the day is unknown (course data without --date)."""

    relative: bool

    def __new__(cls, us: int, relative: bool = False) -> Instant:
        obj = super().__new__(cls, us)
        obj.relative = relative
        return obj

    def __repr__(self) -> str:
        return f"Instant({int(self)}, relative={self.relative})"

    def __reduce__(self) -> tuple[object, ...]:
        return (Instant, (int(self), self.relative))

    def text(self) -> str:
        return format_us(int(self), self.relative)


def format_us(us: int, relative: bool = False) -> str:
    """RFC 3339 UTC with milliseconds; day-relative "+HH:MM:SS.cc" (days as "+1d ...") for unknown days."""
    if relative:
        return _relative(us)
    try:
        moment = _EPOCH + dt.timedelta(microseconds=us)
    except OverflowError:  # beyond year 9999: say what the number is rather than fail
        return f"{us} µs since 1970-01-01 UTC"
    if not 1 <= moment.year <= 9999:
        return f"{us} µs since 1970-01-01 UTC"
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _relative(us: int) -> str:
    sign = "-" if us < 0 else "+"
    days, rest = divmod(abs(int(us)), US_PER_DAY)
    hours, rest = divmod(rest, 3_600 * US_PER_SECOND)
    minutes, rest = divmod(rest, 60 * US_PER_SECOND)
    seconds, rest = divmod(rest, US_PER_SECOND)
    day = f"{days}d " if days else ""
    return f"{sign}{day}{hours:02d}:{minutes:02d}:{seconds:02d}.{rest // 10_000:02d}"


def format_value(value: object) -> object:
    """An Instant as its text; anything else unchanged (renderers walk rows and evidence with this)."""
    return value.text() if isinstance(value, Instant) else value


def render_times(obj: object) -> object:
    """A copy of a JSON-like structure with every Instant replaced by its text."""
    if isinstance(obj, Instant):
        return obj.text()
    if isinstance(obj, dict):
        return {k: render_times(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [render_times(v) for v in obj]
    return obj


def span_text(first: Instant | None, last: Instant | None) -> str:
    """ "2024-04-19 00:00 to 2024-04-21 23:59 UTC (3 days)": a report's time span with real dates."""
    if first is None or last is None:
        return "no flows"
    days = int(last) // US_PER_DAY - int(first) // US_PER_DAY + 1
    unit = "day" if days == 1 else "days"
    if first.relative:
        return f"{first.text()} to {last.text()} (day unknown; give --date; {days} {unit})"
    return f"{first.text()} to {last.text()} ({days} {unit})"
