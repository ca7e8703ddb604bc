"""The one-line messages errors are reported by."""

from sentinel.errors import first_line


def test_first_line_of_a_library_message_or_the_type_when_it_has_none():
    assert first_line(ValueError("Invalid data\n\nLINE 1: SELECT ...")) == "Invalid data"
    assert first_line(OSError("\n  No space left on device\nmore")) == "No space left on device"
    assert first_line(RuntimeError("")) == "RuntimeError"  # `str(exc).splitlines()[0]` raised IndexError here
