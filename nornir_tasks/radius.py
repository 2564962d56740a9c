"""RADIUS authorisation policy: intent -> FreeRADIUS 3 policy and an NPS/ISE table.

The switches and the controller put a user or device in a zone by the VLAN RADIUS returns
(``Tunnel-Type = VLAN``, ``Tunnel-Medium-Type = IEEE-802``, ``Tunnel-Private-Group-Id``).
Which VLAN is not decided here: it is the zone's VLAN from ``zones.yml`` for the zone that
``authorization.yml`` gives the group, so the RADIUS policy cannot drift from the configs.

Decisions the generated policy encodes (``docs/radius.md`` explains them to operators):

* Group membership reaches the policy as the internal attribute ``Fellesnett-Group`` in
  the control list, one value per group. The policy does not care who set it: the
  ``files`` module (users file) in the tests, the directory lookup in production.
* The first listed group of the request's method wins, in ``authorization.yml`` order
  (like the processing order of NPS network policies).
* MAB is recognised by ``Service-Type = Call-Check``, which Catalyst switches and the
  9800 send for MAC authentication. MAB requests are always accepted: a known MAC gets
  its group's zone, an unknown MAC the restricted zone.
* An 802.1X user must authenticate; a user in no group then gets the restricted zone,
  a wrong password (or an unknown user name) gets Access-Reject.
* A VLAN already in the reply is kept, so the policy can run both in the inner tunnel of
  PEAP/TTLS (where the real identity is known) and in the outer server.

:func:`build_radius` returns ``{relative path: text}`` for the handover bundle and writes
nothing; output is deterministic (inventory order where order is policy, otherwise
sorted; no timestamps) and holds secret placeholders only.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass

from nornir_tasks.design.structured import secret_placeholder
from nornir_tasks.intent.loader import Intent
from nornir_tasks.render import environment

#: Internal FreeRADIUS attribute carrying a request's groups. Numbers 3000-3999 are the
#: range FreeRADIUS reserves for local attributes that never go into a packet.
GROUP_ATTRIBUTE = "Fellesnett-Group"
GROUP_ATTRIBUTE_NUMBER = 3100
#: Names of the unlang policies in ``policy.d/fellesnett``.
AUTHORIZE_POLICY = "fellesnett_mab"
POST_AUTH_POLICY = "fellesnett_authorization"
#: The catch-all row: ``*`` can never be a group name (groups start with a letter).
UNKNOWN_GROUP = "*"
ANY_METHOD = "any"
CSV_FIELDS = ("group", "method", "zone", "vlan", "voice", "description")
#: What a Catalyst needs to put a device in the voice domain of a multi-domain port.
VOICE_AVPAIR = "device-traffic-class=voice"

#: The two method branches of the policy, as unlang conditions. ``Service-Type`` is
#: tested for existence first: comparing an absent attribute logs an ERROR per request
#: (inner-tunnel requests of PEAP carry no Service-Type).
MAB_CONDITION = "&Service-Type && (&Service-Type == Call-Check)"
DOT1X_CONDITION = "!&Service-Type || (&Service-Type != Call-Check)"
METHOD_CONDITIONS = {"mab": MAB_CONDITION, "dot1x": DOT1X_CONDITION}

#: Where each generated file goes, relative to the handover bundle.
BASE = "radius"
FREERADIUS = f"{BASE}/freeradius"
PATHS = {
    "README.md.j2": f"{BASE}/README.md",
    "dictionary.j2": f"{FREERADIUS}/dictionary.fellesnett",
    "policy.j2": f"{FREERADIUS}/policy.d/fellesnett",
    "clients.j2": f"{FREERADIUS}/clients.fellesnett.conf",
    "users.j2": f"{FREERADIUS}/mods-config/files/authorize.fellesnett-example",
}
CSV_PATH = f"{BASE}/authorization.csv"


# --------------------------------------------------------------------------- structured


@dataclass(frozen=True, slots=True)
class AuthRule:
    """One row of the policy: members of ``group`` (by ``method``) land in ``zone``."""

    group: str
    method: str
    zone: str
    vlan: int | None  # None: no VLAN (a device on a trunk port: the port just opens)
    voice: bool
    description: str


@dataclass(frozen=True, slots=True)
class RadiusClient:
    """A FreeRADIUS client entry: the NAS that may ask (switches, controllers)."""

    name: str
    prefix: ipaddress.IPv4Network
    secret: str
    description: str


@dataclass(frozen=True, slots=True)
class RadiusPolicy:
    """Everything the RADIUS templates print; built from the intent only."""

    rules: tuple[AuthRule, ...]  # evaluation order = authorization.yml order
    default: AuthRule  # the restricted zone, for anything no rule claims
    clients: tuple[RadiusClient, ...]
    attribute: str
    attribute_number: int

    def by_method(self, method: str) -> tuple[AuthRule, ...]:
        return tuple(r for r in self.rules if r.method == method)


def intent_to_radius_policy(intent: Intent) -> RadiusPolicy:
    """The authorisation policy of the estate: every group with its zone's VLAN."""
    rules = tuple(
        AuthRule(
            group=g.group,
            method=g.method.value,
            zone=g.zone,
            vlan=intent.zones[g.zone].vlan if g.assign_vlan else None,
            voice=g.voice,
            description=g.description,
        )
        for g in intent.authorization.groups
    )
    restricted = intent.policy.restricted_zone
    default = AuthRule(
        group=UNKNOWN_GROUP,
        method=ANY_METHOD,
        zone=restricted,
        vlan=intent.zones[restricted].vlan,
        voice=False,
        description="Users in no group above and unknown MACs (restricted zone)",
    )
    # Switches and controllers source RADIUS from their management SVI, so the
    # management zone's pool covers every NAS; one entry keeps clients.conf stable as
    # sites are added.
    mgmt = intent.policy.management_zone
    clients = (
        RadiusClient(
            name=f"fellesnett-{mgmt}",
            prefix=intent.pools.zones[mgmt].pool,
            secret=secret_placeholder(intent.aaa.radius.key_secret),
            description=f"Switches and controllers (management zone {mgmt})",
        ),
    )
    return RadiusPolicy(rules, default, clients, GROUP_ATTRIBUTE, GROUP_ATTRIBUTE_NUMBER)


# --------------------------------------------------------------------------- public API


def build_radius(intent: Intent) -> dict[str, str]:
    """Every file of the ``radius/`` part of the handover bundle, by relative path."""
    policy = intent_to_radius_policy(intent)
    env = environment()
    files = {
        path: env.get_template(f"radius/{template}").render(
            policy=policy,
            mab_condition=MAB_CONDITION,
            dot1x_condition=DOT1X_CONDITION,
            authorize_policy=AUTHORIZE_POLICY,
            post_auth_policy=POST_AUTH_POLICY,
            voice_avpair=VOICE_AVPAIR,
            paths=PATHS,
            csv_path=CSV_PATH,
        )
        for template, path in PATHS.items()
    }
    files[CSV_PATH] = authorization_csv(policy)
    return dict(sorted(files.items()))


def authorization_csv(policy: RadiusPolicy) -> str:
    """RFC 4180 CSV for NPS/ISE admins: rules in evaluation order, the catch-all last.

    >>> rule = AuthRule("elever", "dot1x", "pupils", 110, False, "Pupils")
    >>> p = RadiusPolicy((rule,), AuthRule("*", "any", "guest", 150, False, "Rest"), (), "", 0)
    >>> print(authorization_csv(p), end="")
    group,method,zone,vlan,voice,description
    elever,dot1x,pupils,110,no,Pupils
    *,any,guest,150,no,Rest
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in (*policy.rules, policy.default):
        writer.writerow([r.group, r.method, r.zone, "" if r.vlan is None else r.vlan,
                         "yes" if r.voice else "no", r.description])
    return buf.getvalue()


# --------------------------------------------------------------------------- reading back

#: (method, group) -> reply attribute -> values, as the FreeRADIUS policy text sets them.
PolicyReplies = dict[tuple[str, str], dict[str, list[str]]]

_GROUP_TEST = re.compile(r'&control:' + re.escape(GROUP_ATTRIBUTE) + r'\[\*\] == "([^"]+)"')
_REPLY_ITEM = re.compile(r'^&?([A-Za-z0-9-]+)\s*(?::=|\+=|=)\s*"?([^"]*)"?$')
#: ``&Attr !* ANY``: the attribute is removed from the reply (a group that gets no VLAN)
_REPLY_REMOVE = re.compile(r'^&?([A-Za-z0-9-]+)\s*!\*\s*ANY$')


def freeradius_policy_to_replies(text: str) -> PolicyReplies:
    """What the generated unlang policy replies, read from its TEXT.

    For checks that must not trust the structured data the policy came from (zone proof,
    tests). Understands the shape :func:`build_radius` prints: a catch-all ``update
    reply`` outside any group test (key ``("any", "*")``), and one per group inside the
    MAB or 802.1X branch.

    >>> text = '''fellesnett_authorization {
    ... \tupdate reply {
    ... \t\t&Tunnel-Private-Group-Id := "150"
    ... \t}
    ... \tif (&Service-Type && (&Service-Type == Call-Check)) {
    ... \t\tif (&control:Fellesnett-Group[*] == "ip-telefoner") {
    ... \t\t\tupdate reply {
    ... \t\t\t\t&Tunnel-Private-Group-Id := "140"
    ... \t\t\t\t&Cisco-AVPair += "device-traffic-class=voice"
    ... \t\t\t}
    ... \t\t}
    ... \t}
    ... }'''
    >>> for key, reply in sorted(freeradius_policy_to_replies(text).items()):
    ...     print(key, reply)
    ('any', '*') {'Tunnel-Private-Group-Id': ['150']}
    ('mab', 'ip-telefoner') {'Cisco-AVPair': ['device-traffic-class=voice'], \
'Tunnel-Private-Group-Id': ['140']}

    Raises:
        ValueError: braces do not balance, or a group test sits outside a method branch.
    """
    replies: PolicyReplies = {}
    stack: list[str] = []  # headers of the open sections
    reply: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()  # the generated text has no '#' in values
        if not line:
            continue
        if line.endswith("{"):
            header = line[:-1].strip()
            stack.append(header)
            if header == "update reply":
                reply = {}
            continue
        if line == "}":
            if not stack:
                raise ValueError(f"line {number}: '}}' without an open section")
            if stack.pop() == "update reply" and reply is not None:
                replies[_context(stack, number)] = {k: sorted(v) for k, v in
                                                    sorted(reply.items())}
                reply = None
            continue
        if reply is not None:
            m = _REPLY_ITEM.match(line)
            if m:
                reply.setdefault(m.group(1), []).append(m.group(2))
            elif (r := _REPLY_REMOVE.match(line)) is not None:
                reply[r.group(1)] = []  # explicitly none
    if stack:
        raise ValueError(f"unclosed section {stack[-1]!r}")
    return replies


def _context(stack: list[str], number: int) -> tuple[str, str]:
    """(method, group) of an ``update reply`` from the section headers around it."""
    method = group = None
    for header in stack:
        for name, condition in METHOD_CONDITIONS.items():
            if f"({condition})" in header:
                method = name
        m = _GROUP_TEST.search(header)
        if m:
            group = m.group(1)
    if group is None:
        return (ANY_METHOD, UNKNOWN_GROUP)
    if method is None:
        raise ValueError(f"line {number}: group {group!r} outside a method branch")
    return (method, group)
