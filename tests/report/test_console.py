from sentinel.report import console
from sentinel.report.escape import visible
from tests.report.hostile import CONTROLS, HOSTILE, hostile_report


def test_visible_escapes_every_control_and_bidi_character():
    assert visible("a\x1b[31mb") == "a\\x1b[31mb"
    assert visible("\x07\x00\x7f\x9b") == "\\x07\\x00\\x7f\\x9b"
    assert visible("\u202e\u200e\u200f\u061c\u2066\u2069\u202a") == "\\u202e\\u200e\\u200f\\u061c\\u2066\\u2069\\u202a"
    assert visible("line\nbreak\ttab") == "line\\x0abreak\\x09tab"
    assert visible("Ünïcode café 東京 -> fine") == "Ünïcode café 東京 -> fine"


def test_console_shows_control_characters_as_escapes():
    text = console.render(hostile_report())
    assert not any(c in text for c in CONTROLS)
    assert "ok\\x1b[31mred\\x07bell\\x00nul\\x7fdel\\x9bcsi\\u202eevil\\x0anext\\u2066iso" in text
    # The newline inside a name did not start a line of its own anywhere.
    assert not any(line.startswith("next") for line in text.splitlines())
    assert text.count(visible(HOSTILE)) >= 5  # sources, first seen, note, table title and cells, alert
