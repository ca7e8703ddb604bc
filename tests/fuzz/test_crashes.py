"""Every input the fuzzer (tests/fuzz/fuzz_readers.py) ever saved: none may crash any more."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus.make_corpus import MAP_ARGS
from tests.corpus.test_corpus import check_run, run_cli

CRASHES = sorted(p for p in (Path(__file__).parent / "crashes").iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("path", CRASHES, ids=[p.name for p in CRASHES])
def test_saved_crash_runs_cleanly(path, tmp_path):
    args = MAP_ARGS if "-map" in path.name else ()
    status, out, err = run_cli(["--data", str(path), *args, "--all", "--json", str(tmp_path / "r.json")])
    check_run(status, out, err)
