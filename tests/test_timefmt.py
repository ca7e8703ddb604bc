import datetime as dt

import pytest

from sentinel.timefmt import format_ts


def test_dated_and_relative_times():
    assert format_ts(360_000 + 5, dt.date(2024, 1, 1)) == "2024-01-01T01:00:00.050Z"
    assert format_ts(8_640_000 + 360_000, None) == "+1d 01:00:00.00"
    assert format_ts(None, dt.date(2024, 1, 1)) is None


@pytest.mark.parametrize(
    ("centiseconds", "date"),
    [(10**18, dt.date(2024, 1, 1)), (-(10**12), dt.date(1, 1, 1)), (10**10, dt.date(9999, 12, 31))],
)
def test_times_beyond_the_calendar_fall_back_to_the_offset_from_the_day(centiseconds, date):
    text = format_ts(centiseconds, date)
    assert text.startswith(f"{date.isoformat()} {'+' if centiseconds > 0 else '-'}") and "d " in text
