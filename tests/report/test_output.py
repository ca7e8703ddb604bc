import stat

import pytest

from sentinel.errors import OutputError
from sentinel.report import output


def test_write_new_never_clobbers(tmp_path):
    path = tmp_path / "r.json"
    output.write_new(path, b"first")
    with pytest.raises(OutputError, match="exists already; choose another name or pass --force"):
        output.write_new(path, b"second")
    assert path.read_bytes() == b"first"


def test_replacing_keeps_the_usual_file_mode(tmp_path):
    fresh, replaced = tmp_path / "fresh", tmp_path / "replaced"
    fresh.write_bytes(b"x")
    replaced.write_bytes(b"old")
    output.write_replacing(replaced, b"new")
    assert replaced.read_bytes() == b"new"
    assert stat.S_IMODE(replaced.stat().st_mode) == stat.S_IMODE(fresh.stat().st_mode)  # not mkstemp's 0600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_free_stem_skips_taken_names(tmp_path):
    (tmp_path / "report.md").write_text("x")
    (tmp_path / "report-2-chart.png").write_text("x")
    assert output.free_stem(tmp_path, "report", (".md", "-chart.png")) == "report-3"
