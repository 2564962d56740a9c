"""What differs between the platforms the intent's device models name, as data.

Design, verify and the reports read these facts instead of branching on a platform name,
so a second platform is a second entry here (and a template directory), not new ``if``s.
"""

from __future__ import annotations

from dataclasses import dataclass

from nornir_tasks.intent.model import Platform


@dataclass(frozen=True, slots=True)
class PlatformFacts:
    #: the factory VRF of the out-of-band service port
    service_port_vrf: str | None
    #: whether the management interface may sit in the management zone's VRF; the 9800
    #: supports a management VRF only on its service port, so its wireless management
    #: interface (and with it RMI, AAA, NTP, syslog) lives in the global table
    #: (docs/reference/c9800-ha-and-management.md §1)
    management_in_vrf: bool


FACTS: dict[Platform, PlatformFacts] = {
    Platform.ios_xe: PlatformFacts(service_port_vrf="Mgmt-vrf", management_in_vrf=True),
    Platform.c9800: PlatformFacts(service_port_vrf="Mgmt-intf", management_in_vrf=False),
    Platform.ap: PlatformFacts(service_port_vrf=None, management_in_vrf=False),
}


def facts(platform: Platform) -> PlatformFacts:
    """The facts of one platform.

    >>> facts(Platform.c9800).management_in_vrf
    False
    """
    return FACTS[platform]
