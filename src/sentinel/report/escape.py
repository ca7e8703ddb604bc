"""Escaping for everything that comes from the data (addresses, names, file names) before it is rendered.

A flow file is attacker-influenced input: a "hostname" or file name may carry Markdown or HTML. Text
cells are escaped so they render literally and inert in any Markdown viewer (HTML entities for < > &,
backslashes for Markdown syntax, no line breaks inside table cells).
"""

from __future__ import annotations

import html
import re

# Inline Markdown syntax; "<", ">" and "&" are already HTML entities by then.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# What would turn the start of a line into a heading, list, quote or rule.
_BLOCK_START = re.compile(r"^(\d*)([#>+=-]|[.)](?=\s|$))")


def md_text(value: object) -> str:
    """Literal text inside a line: a table cell, or after other text."""
    text = " ".join(str(value).split())  # no newlines/tabs: they would break a table or start a block
    text = html.escape(text, quote=False)  # & < > become entities: no raw HTML survives
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_para(value: object) -> str:
    """Literal text that starts a line, where "# ", "- " or "1. " would open a heading or a list."""
    return _BLOCK_START.sub(r"\1\\\2", md_text(value))


def md_link_target(name: str) -> str:
    """A relative link target for a file Sentinel itself named: percent-encode anything unusual."""
    from urllib.parse import quote

    return quote(name, safe="/-_.")
