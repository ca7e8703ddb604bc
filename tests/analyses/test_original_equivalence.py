"""Same results as the original where the original was right: -cv flows and down_bytes per country with
the same GeoIP.dat, and -td flows per hour, against a pandas reference of the original's code."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sentinel import pipeline, schema
from sentinel.config import Config
from sentinel.registry import default_params
from tests import reference_original


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """Private and public destinations, every hour, some negative and next-day timestamps."""
    rng = np.random.default_rng(7)
    n = 60_000
    public = [f"{a}.{b}.{c}.{d}" for a, b, c, d in rng.integers([1, 0, 0, 1], [224, 256, 256, 255], (3000, 4))]
    private = [f"192.168.104.{i}" for i in range(1, 60)] + [
        "10.1.2.3",
        "172.16.5.4",
        "224.0.0.251",
        "0.1.2.3",
    ]
    pool = np.array(public + private)
    ts = rng.integers(-360_000, 8_640_000 + 360_000, n)
    table = pa.table(
        {
            "timestamp": ts,
            "src_ip": rng.choice(pool[-63:-4], n),
            "dst_ip": rng.choice(pool, n),
            "proto": rng.choice(["tcp", "udp"], n),
            "port": rng.choice([53, 80, 443, 445], n).astype(np.int32),
            "up_bytes": rng.integers(0, 10**6, n),
            "down_bytes": rng.integers(0, 10**7, n),
        },
        schema=schema.COURSE_ARROW_SCHEMA,
    )
    path = tmp_path_factory.mktemp("eq") / "capture.parquet"
    pq.write_table(table, path)
    return path, table.to_pandas()


@pytest.mark.parametrize(
    "dat", ["GeoIP-course-GeoLite2-20230414.dat", "GeoIP-debian-20191224.dat", "GeoIP-20140902.dat"]
)
def test_country_volume_matches_original(capture, shared_data, dat):
    path, frame = capture
    geoip = shared_data / "geoip-legacy" / dat
    expected = reference_original.country_volume(frame, str(geoip))
    expected_rows = {
        (country or None): (int(row[("dst_ip", "count")]), int(row[("down_bytes", "sum")]))
        for country, row in expected.iterrows()
    }
    config = Config(data=path, country_db=str(geoip), units={"country_volume": default_params("country_volume")})
    got: dict = {}
    for r in pipeline.run(config).section("country_volume").json()["rows"]:
        flows, down = got.get(r["country"], (0, 0))  # the original lumped every no-country row together
        got[r["country"]] = (flows + r["flows"], down + r["down_bytes"])
    assert got == expected_rows
    assert len(got) > 20  # the capture really spreads over many countries


def test_hourly_matches_original(capture):
    path, frame = capture
    expected = reference_original.traffic_distribution(frame)
    config = Config(data=path, units={"hourly": default_params("hourly")})
    rows = pipeline.run(config).section("hourly").json()["rows"]
    got = pd.Series({r["hour"]: r["flows"] for r in rows if r["flows"]})
    assert got.to_dict() == {int(h): int(n) for h, n in expected.items()}
    assert len(got) == 24
