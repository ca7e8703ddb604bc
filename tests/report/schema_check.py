"""Every JSON report a test produces is checked against the schema shipped in the package."""

from __future__ import annotations

import functools
from typing import Any

import jsonschema

from sentinel.report import json_report


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json_report.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def check_report(document: dict[str, Any]) -> dict[str, Any]:
    """Validate `document` (a parsed JSON report) against the packaged schema v1; return it."""
    _validator().validate(document)
    return document
