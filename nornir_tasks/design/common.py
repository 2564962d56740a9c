"""Design pieces shared by every IOS-XE based device (switches and the 9800 pair)."""

from __future__ import annotations

import functools
import unicodedata
from ipaddress import IPv4Network
from typing import Any

from nornir_tasks.design.structured import (
    Aaa,
    Acl,
    AclEntry,
    LocalUser,
    Management,
    Server,
    Snmp,
    secret_placeholder,
)
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.memo import per_intent
from nornir_tasks.platforms import facts

TACACS_GROUP = "TACACS-GROUP"
RADIUS_GROUP = "RADIUS-GROUP"
VTY_ACL = "MGMT-ACCESS"
SNMP_ACL = "SNMP-ACCESS"
SNMP_GROUP = "NOC-RO"
SNMP_VIEW = "NOC-VIEW"


def mgmt_vrf(intent: Intent) -> str:
    return intent.zones[intent.policy.management_zone].vrf


def mgmt_svi(intent: Intent) -> str:
    return f"Vlan{intent.zones[intent.policy.management_zone].vlan}"


def management_vrf(intent: Intent, host: str) -> str | None:
    """The VRF of a device's management interface; None for the global table."""
    platform = intent.device_models[intent.devices[host].model].platform
    return mgmt_vrf(intent) if facts(platform).management_in_vrf else None


def build_management(intent: Intent, host: str) -> Management:
    """Management plane: AAA, NTP, syslog, SNMPv3, DNS, banner, vty access.

    The parts that are the same on many devices are the same objects (one per intent and
    distinct value): the renderer keys its memo of feature texts on them.
    """
    m = intent.management
    site = intent.site_of(host)
    dev = intent.devices[host]
    source = mgmt_svi(intent)
    vrf = management_vrf(intent, host)
    shared = _shared_management(intent)
    aaa = shared.get(("aaa", source, vrf))
    if aaa is None:
        aaa = shared[("aaa", source, vrf)] = _aaa(intent, source, vrf)
    location = ascii_text(dev.location or site.name)
    snmp = shared.get(("snmp", location))
    if snmp is None:
        snmp = shared[("snmp", location)] = Snmp(
            group=SNMP_GROUP,
            view=SNMP_VIEW,
            acl=SNMP_ACL,
            users=sorted(u.name for u in m.snmp_users),
            collectors=sorted(m.snmp_collectors),
            contact=m.contact,
            location=location,
        )
    lists = shared.get("lists")
    if lists is None:
        lists = shared["lists"] = (list(m.dns_servers), list(m.ntp_servers),
                                   list(m.syslog_servers))
    return Management(
        hostname=host,
        domain_name=m.domain_name,
        vrf=vrf,
        source_interface=source,
        timezone=m.timezone,
        summer_time=m.summer_time,
        banner=m.banner,
        dns_servers=lists[0],
        ntp_servers=lists[1],
        syslog_servers=lists[2],
        snmp=snmp,
        aaa=aaa,
        vty_acl=VTY_ACL,
    )


@per_intent
def _shared_management(intent: Intent) -> dict[object, Any]:
    return {}


def _aaa(intent: Intent, source: str, vrf: str | None) -> Aaa:
    a = intent.aaa
    return Aaa(
        tacacs_group=TACACS_GROUP,
        radius_group=RADIUS_GROUP,
        tacacs_servers=[Server(s.name, s.address) for s in a.tacacs.servers],
        radius_servers=[Server(s.name, s.address) for s in a.radius.servers],
        tacacs_key=secret_placeholder(a.tacacs.key_secret),
        radius_key=secret_placeholder(a.radius.key_secret),
        local_users=sorted(
            (LocalUser(u.name, u.privilege, secret_placeholder(u.secret)) for u in a.local_users),
            key=lambda u: u.name,
        ),
        enable_secret=secret_placeholder(a.enable_secret),
        coa=a.radius.coa,
        dead_time_minutes=a.radius.dead_time_minutes,
        source_interface=source,
        vrf=vrf,
    )


@per_intent
def management_acls(intent: Intent) -> list[Acl]:
    """Standard ACLs guarding vty and SNMP: only the NOC (and SNMP collectors); the same
    objects for every device of an intent (their text is rendered once)."""
    noc = sorted(intent.management.noc_prefixes)
    vty = [AclEntry(seq=10 * (i + 1), action="permit", source=p) for i, p in enumerate(noc)]
    vty.append(AclEntry(seq=10 * (len(noc) + 1), action="deny"))
    snmp_src = sorted({*(f"{c}/32" for c in intent.management.snmp_collectors)})
    snmp = [AclEntry(seq=10 * (i + 1), action="permit", source=IPv4Network(p))
            for i, p in enumerate(snmp_src)]
    snmp.append(AclEntry(seq=10 * (len(snmp_src) + 1), action="deny"))
    return sorted([Acl(SNMP_ACL, "standard", snmp), Acl(VTY_ACL, "standard", vty)],
                  key=lambda a: a.name)


@functools.lru_cache(maxsize=65536)
def ascii_text(text: str) -> str:
    """Transliterate for device CLI, which is not safe for non-ASCII bytes.

    >>> ascii_text("Øvre Alta skole - trådløs")
    'Ovre Alta skole - tradlos'
    """
    for a, b in (("Æ", "AE"), ("æ", "ae"), ("Ø", "O"), ("ø", "o"), ("Å", "AA"), ("å", "a")):
        text = text.replace(a, b)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def vlan_ids(text: str) -> list[int]:
    """Inverse of :func:`vlan_list`.

    >>> vlan_ids("100,110-112")
    [100, 110, 111, 112]
    """
    out: list[int] = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def vlan_list(ids: list[int]) -> str:
    """IOS allowed-VLAN list, ranges compressed the way IOS prints them.

    >>> vlan_list([150, 100, 110, 111, 112, 120])
    '100,110-112,120,150'
    """
    out: list[str] = []
    ids = sorted(set(ids))
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return ",".join(out)
