"""Documentation kept true: every unit parameter is documented in code and listed in the README."""

from dataclasses import fields

import pytest

from sentinel.registry import UNITS
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


@pytest.mark.parametrize("key", list(UNITS))
def test_every_parameter_is_documented(key):
    for f in fields(UNITS[key].Params):
        doc = f.metadata.get("doc", "")
        assert doc.strip(), f"{key}.{f.name} has no doc"
        assert f"| `{key}` | `{f.name}` | `{f.default!r}` | {doc} |" in README, f"README lacks {key}.{f.name}"


def test_every_cli_option_is_in_the_readme():
    from sentinel.cli import analysis_parser

    for action in analysis_parser()._actions:
        for option in action.option_strings:
            if option not in ("-h", "--help"):
                assert f"`{option}" in README, option
