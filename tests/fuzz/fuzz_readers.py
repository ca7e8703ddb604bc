"""Time-boxed fuzzing of the readers: mutate the bytes of small valid files of each format and run each
through `sentinel.cli.main` in a child process with a per-case timeout.

    python tests/fuzz/fuzz_readers.py [SECONDS]     (default 60)

Fails (exit 1) if any run ends in exit status 1 (internal error), a traceback, a signal or the timeout;
each such input is saved under tests/fuzz/crashes/ (replayed by tests/fuzz/test_crashes.py). The seed is
printed, so a run can be repeated with --seed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CRASHES = HERE / "crashes"
sys.path.insert(0, str(HERE.parents[1]))

from tests.corpus import make_corpus as mc  # noqa: E402

#: Seconds one case may take before it counts as a hang.
CASE_TIMEOUT = 30


# One valid small file per format: (suffix, content, extra arguments).
def seeds(tmp: Path) -> list[tuple[str, bytes, tuple[str, ...]]]:
    out: list[tuple[str, bytes, tuple[str, ...]]] = []
    for name, types, row in (
        ("course", mc.COURSE_TYPES, mc.course_row),
        ("canonical", mc.CANONICAL_TYPES, mc.canonical_row),
    ):
        path = tmp / f"{name}.parquet"
        mc.write_parquet(path, [row(port=i) for i in range(8)], types)
        out.append((".parquet", path.read_bytes(), ()))
    zeek = (mc.zeek_header() + mc.many(mc.zeek_line, 8)).encode()
    argus = (mc.ARGUS_HEADER + mc.many(mc.argus_line, 8)).encode()
    nfdump = (mc.NFDUMP_HEADER + mc.many(mc.nfdump_line, 8) + mc.NFDUMP_SUMMARY).encode()
    mapped = (mc.MAPPED_HEADER + mc.many(mc.mapped_line, 8)).encode()
    out += [
        (".log", zeek, ()),
        (".log.gz", mc.gz(zeek), ()),
        (".log.zst", mc.zst(zeek), ()),
        (".json", mc.many(mc.zeek_json, 8).encode(), ()),
        (".binetflow", argus, ()),
        (".binetflow", argus.replace(b",", b"\t"), ()),
        (".csv", nfdump, ()),
        (".csv", mapped, mc.MAP_ARGS),
        (".csv.gz", mc.gz(mapped), mc.MAP_ARGS),
    ]
    return out


INTERESTING = [b"\x00", b"\xff", b"\n", b",", b"\t", b"-", b"9" * 20, b"NaN", b"\x1b[31m", "\u202e".encode(), b'"']


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not buf:
            break
        op = rng.random()
        i = rng.randrange(len(buf))
        if op < 0.4:
            buf[i] = rng.randrange(256)
        elif op < 0.55:
            del buf[i : i + rng.randint(1, 16)]
        elif op < 0.75:
            buf[i:i] = rng.choice(INTERESTING)
        elif op < 0.85:
            del buf[i:]  # cut
        else:
            j = rng.randrange(len(buf))
            buf[i:i] = buf[j : j + rng.randint(1, 32)]  # duplicate a piece
    return bytes(buf)


_CHILD = """
import sys
from sentinel import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def run_case(path: Path, args: tuple[str, ...], out_dir: Path) -> tuple[int | None, str]:
    """Exit status of `sentinel --data path` (None: timed out) and its stderr."""
    argv = [sys.executable, "-c", _CHILD, "--data", str(path), *args, "--all", "-q", "--json", str(out_dir / "r.json")]
    argv += ["--force", "--threads", "1"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=CASE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    return done.returncode, done.stderr.decode("utf-8", "replace")


def bad(status: int | None, err: str) -> bool:
    return status is None or status == 1 or status < 0 or "Traceback" in err


def save(data: bytes, suffix: str, args: tuple[str, ...]) -> Path:
    CRASHES.mkdir(exist_ok=True)
    digest = hashlib.sha256(data + repr(args).encode()).hexdigest()[:16]
    tag = "-map" if args else ""
    path = CRASHES / f"{digest}{tag}{suffix}"
    path.write_bytes(data)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("seconds", nargs="?", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args(argv)
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    deadline = time.monotonic() + a.seconds
    runs = 0
    found: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sentinel-fuzz-") as tmp:
        work = Path(tmp)
        samples = seeds(work)
        while time.monotonic() < deadline - 1:
            suffix, content, args = rng.choice(samples)
            data = mutate(content, rng)
            path = work / f"case{suffix}"
            path.write_bytes(data)
            status, err = run_case(path, args, work)
            runs += 1
            if bad(status, err):
                saved = save(data, suffix, args)
                found.append(saved)
                print(f"crash: exit {status}: {err.strip().splitlines()[-1:] or ''} -> {saved}", file=sys.stderr)
    print(f"fuzz_readers: seed {seed}, {runs} inputs in {a.seconds:.0f} s, {len(found)} crash(es)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
