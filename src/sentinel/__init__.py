"""Sentinel: network-flow threat hunting over flow records, on DuckDB."""

__version__ = "0.2.0"
