import pytest

from sentinel.timefmt import Instant, format_us, render_times, span_text


def test_absolute_and_day_relative_times():
    us = 1_704_070_800_050_000  # 2024-01-01 01:00:00.05 UTC
    assert format_us(us) == "2024-01-01T01:00:00.050Z"
    assert format_us(90_000 * 1_000_000, relative=True) == "+1d 01:00:00.00"
    assert format_us(-1_000_000, relative=True) == "-00:00:01.00"


@pytest.mark.parametrize("us", [10**19, -(10**18), 253_402_300_800 * 1_000_000])
def test_times_beyond_the_calendar_say_what_the_number_is(us):
    assert format_us(us) == f"{us} µs since 1970-01-01 UTC"


def test_renderers_format_instants_wherever_they_are():
    t = Instant(0)
    assert render_times({"a": [t, {"b": t}], "c": 3}) == {
        "a": ["1970-01-01T00:00:00.000Z", {"b": "1970-01-01T00:00:00.000Z"}],
        "c": 3,
    }
    assert span_text(Instant(0), Instant(2 * 86_400 * 1_000_000)).endswith("(3 days)")
    assert "day unknown" in span_text(Instant(0, True), Instant(5, True))
