"""The original course tool's -cv and -td, written as its report shows (pandas, pygeoip per row).

Kept as the reference Sentinel must agree with where the original was right (flows and down_bytes per
country, flows per hour). The bench script runs the same code to measure the original's speed.
"""

from __future__ import annotations

import pandas as pd
import pygeoip


def country_volume(data: pd.DataFrame, geoip_path: str) -> pd.DataFrame:
    gi = pygeoip.GeoIP(geoip_path)
    countries = data.copy()
    countries["country"] = countries["dst_ip"].apply(lambda ip: gi.country_code_by_addr(ip))
    volume = countries.groupby(["country"]).agg({"dst_ip": ["count"], "down_bytes": ["sum"]})
    return volume.sort_values(("dst_ip", "count"), ascending=False)


def traffic_distribution(data: pd.DataFrame) -> pd.Series:
    traffic = data.copy()
    traffic["hour"] = pd.to_datetime(traffic["timestamp"] / 100.0, unit="s").dt.hour
    return traffic["hour"].value_counts().sort_index()
