"""Rendering flow timestamps (1/100 s since 00:00 UTC of the capture day) for people and SIEMs."""

from __future__ import annotations

import datetime as dt


def format_ts(centiseconds: int | None, date: dt.date | None) -> str | None:
    """RFC 3339 UTC when the capture day is known; else the day-relative time, "+HH:MM:SS.cc".

    Course files carry no date, so inventing one (1970-01-01) would mislead; the "+" marks a time of
    day relative to the capture's 00:00 (a negative or multi-day offset stays readable: "+1d 02:00:00.00").
    """
    if centiseconds is None:
        return None
    if date is not None:
        try:
            base = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)
            moment = base + dt.timedelta(seconds=centiseconds / 100)
        except OverflowError:
            # Beyond the years 1-9999 a calendar cannot name the moment: the offset from the day's 00:00.
            return f"{date.isoformat()} {_relative(centiseconds)}"
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return _relative(centiseconds)


def _relative(centiseconds: int) -> str:
    sign = "-" if centiseconds < 0 else "+"
    days, rest = divmod(abs(int(centiseconds)), 8_640_000)
    hours, rest = divmod(rest, 360_000)
    minutes, rest = divmod(rest, 6_000)
    seconds, cs = divmod(rest, 100)
    day = f"{days}d " if days else ""
    return f"{sign}{day}{hours:02d}:{minutes:02d}:{seconds:02d}.{cs:02d}"
