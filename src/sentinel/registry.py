"""Every analysis and detector Sentinel has, in report order. A later plug-in registers the same way."""

from __future__ import annotations

from sentinel.analyses.country_volume import CountryVolume
from sentinel.analyses.hourly import Hourly
from sentinel.detectors.beacon import Beacon
from sentinel.detectors.dns import Dns
from sentinel.detectors.exfiltration import Exfiltration
from sentinel.detectors.lateral import Lateral
from sentinel.detectors.p2p import Botnet
from sentinel.detectors.scan import Scan
from sentinel.detectors.threat_intel import ThreatIntel
from sentinel.units import Unit

UNITS: dict[str, Unit] = {
    unit.key: unit
    for unit in (
        CountryVolume(),
        Hourly(),
        Exfiltration(),
        Botnet(),
        Beacon(),
        Scan(),
        Dns(),
        Lateral(),
        ThreatIntel(),
    )
}


def default_params(key: str) -> object:
    return UNITS[key].Params()
