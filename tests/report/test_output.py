import os
import stat
import threading
from pathlib import Path

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


def test_reserve_stem_skips_taken_names(tmp_path):
    (tmp_path / "report.md").write_text("x")
    (tmp_path / "report-2-chart.png").write_text("x")
    assert output.Batch().reserve_stem(tmp_path, "report", (".md", "-chart.png")) == "report-3"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report-2-chart.png",
        "report-3-chart.png",
        "report-3.md",
        "report.md",
    ]  # report-2.md was taken for a moment, and given back when its chart's name was found taken


def test_two_runs_reserve_different_names(tmp_path):
    first, second = output.Batch(), output.Batch()
    suffixes = (".md", "-hourly.png")
    assert first.reserve_stem(tmp_path, "r", suffixes) == "r"
    assert second.reserve_stem(tmp_path, "r", suffixes) == "r-2"
    first.commit({tmp_path / "r.md": b"first", tmp_path / "r-hourly.png": b"png"})
    second.commit({tmp_path / "r-2.md": b"second", tmp_path / "r-2-hourly.png": b"png"})
    assert (tmp_path / "r.md").read_bytes() == b"first" and (tmp_path / "r-2.md").read_bytes() == b"second"
    assert _no_temp_files(tmp_path)


def test_a_dangling_link_takes_its_name_and_is_not_followed(tmp_path):
    (tmp_path / "r.md").symlink_to(tmp_path / "elsewhere.md")
    batch = output.Batch()
    assert batch.reserve_stem(tmp_path, "r", (".md",)) == "r-2"
    batch.commit({tmp_path / "r-2.md": b"report"})
    assert not (tmp_path / "elsewhere.md").exists() and (tmp_path / "r.md").is_symlink()
    with pytest.raises(OutputError, match="exists already"):
        output.Batch().reserve(tmp_path / "r.md")
    assert not (tmp_path / "elsewhere.md").exists()


def test_abort_leaves_nothing(tmp_path):
    batch = output.Batch()
    stem = batch.reserve_stem(tmp_path, "r", (".md", "-a.png"))
    (tmp_path / "mine.txt").write_text("user's")
    batch.abort()
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    # A failure half way through the commit: the files already renamed into place go too.
    batch = output.Batch()
    stem = batch.reserve_stem(tmp_path, "r", (".md", "-a.png"))
    (tmp_path / "blocker").mkdir()
    with pytest.raises(OutputError, match="blocker"):
        batch.commit(
            {tmp_path / f"{stem}-a.png": b"png", tmp_path / f"{stem}.md": b"md", tmp_path / "blocker": b"x"},
            replacing=frozenset([tmp_path / "blocker"]),
        )
    batch.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "mine.txt"]


def test_abort_never_removes_what_someone_else_put_there(tmp_path):
    batch = output.Batch()
    batch.reserve(tmp_path / "r.json")
    (tmp_path / "r.json").unlink()
    (tmp_path / "r.json").write_text("someone else's")
    batch.abort()
    assert (tmp_path / "r.json").read_text() == "someone else's"


def _no_temp_files(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")] == []


def test_a_fifo_is_written_as_a_stream_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert output.destination(fifo, force=False) is output.Destination.STREAM  # nothing replaced: no --force
    output.write(fifo, b'{"report": 1}', force=False)
    reader.join(timeout=10)
    assert received == [b'{"report": 1}']
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and _no_temp_files(tmp_path)


def test_dev_null_is_a_stream_even_with_force():
    for force in (False, True):
        output.write(Path("/dev/null"), b"x", force)
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("force", [False, True])
def test_directories_and_links_are_never_replaced(tmp_path, force):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("mine")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for name, kind in (("dir", "a directory"), ("link", "a symbolic link"), ("dangling", "a symbolic link")):
        with pytest.raises(OutputError, match=f"{name}: is {kind}, not a regular file"):
            output.write(tmp_path / name, b"new", force)
    assert (
        (tmp_path / "dir").is_dir() and (tmp_path / "link").is_symlink() and (tmp_path / "file").read_text() == "mine"
    )
    assert not (tmp_path / "nowhere").exists() and _no_temp_files(tmp_path)


def test_a_failed_replace_leaves_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    target.write_text("old")

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(output.os, "replace", refuse)
    with pytest.raises(OutputError, match=r"r\.json: cannot write"):
        output.write(target, b"new", force=True)
    assert target.read_text() == "old" and _no_temp_files(tmp_path)
