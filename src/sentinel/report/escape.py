"""Escaping for everything that comes from the data (addresses, names, file names) before it is rendered.

A flow file is attacker-influenced input: a "hostname" or file name may carry Markdown or HTML, terminal
escape sequences or bidirectional overrides. Every renderer passes such text through `visible`, so control
characters cannot drive a terminal or hide text; Markdown cells are in addition escaped so they render
literally and inert in any Markdown viewer (HTML entities for < > &, backslashes for Markdown syntax, no
line breaks inside table cells).
"""

from __future__ import annotations

import html
import re

# C0 controls (ESC, BEL, NUL, newline, ...), DEL, C1 controls, and the bidirectional controls that reorder
# what a reader sees (LRM/RLM, ALM, embeddings and overrides, isolates), plus the line/paragraph separators.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
# Inline Markdown syntax; "<", ">" and "&" are already HTML entities by then.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# What would turn the start of a line into a heading, list, quote or rule.
_BLOCK_START = re.compile(r"^(\d*)([#>+=-]|[.)](?=\s|$))")


def visible(value: object) -> str:
    """`value` as text in which no control character acts: each shows as an escape (ESC as \\x1b, U+202E
    as \\u202e). For the console, error messages and anything else printed; md_text applies it too."""
    return _INVISIBLE.sub(_escape, str(value))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def md_text(value: object) -> str:
    """Literal text inside a line: a table cell, or after other text."""
    text = " ".join(str(value).split())  # no newlines/tabs: they would break a table or start a block
    text = visible(text)  # the control characters that are not white space
    text = html.escape(text, quote=False)  # & < > become entities: no raw HTML survives
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_para(value: object) -> str:
    """Literal text that starts a line, where "# ", "- " or "1. " would open a heading or a list."""
    return _BLOCK_START.sub(r"\1\\\2", md_text(value))


def md_link_target(name: str) -> str:
    """A relative link target for a file Sentinel itself named: percent-encode anything unusual."""
    from urllib.parse import quote

    return quote(name, safe="/-_.")
