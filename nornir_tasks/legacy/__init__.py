"""The networks that run today, as read from their running configs (issue 14: survey,
import, migrate). :func:`read_config` reads a Cisco IOS classic or HPE ArubaOS-Switch
config into a :class:`~nornir_tasks.legacy.model.LegacyDevice`, every line accounted for.
"""

from __future__ import annotations

from nornir_tasks.legacy import aruba_os_switch, cisco_ios
from nornir_tasks.legacy.model import LegacyDevice

READERS = {"cisco_ios": cisco_ios.read, "aruba_os_switch": aruba_os_switch.read}


def detect_platform(text: str) -> str:
    """The platform a running config is from: ArubaOS-Switch configs open with their
    ``; <model> Configuration Editor`` header, everything else is read as Cisco IOS.

    >>> detect_platform("; J9728A Configuration Editor; Created on release #WB.16.10.0012")
    'aruba_os_switch'
    >>> detect_platform("Running configuration:\\n\\n; J9728A Configuration Editor; Created")
    'aruba_os_switch'
    >>> detect_platform("Building configuration...")
    'cisco_ios'
    """
    # `show running-config` on the switch puts "Running configuration:" above the header
    head = [line for line in text.splitlines()[:6] if line.strip()][:2]
    return "aruba_os_switch" if any("Configuration Editor;" in h for h in head) else "cisco_ios"


def read_config(text: str, source: str = "", platform: str | None = None) -> LegacyDevice:
    return READERS[platform or detect_platform(text)](text, source)
