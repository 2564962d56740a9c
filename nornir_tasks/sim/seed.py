"""The config a device plausibly runs before fellesnett manages it.

Derived from the intended config, deterministic per hostname: secrets become device
hashes of legacy passwords, plus a little realistic drift (legacy insecure lines, an old
NTP/syslog server, a legacy VLAN, stale descriptions, a missing line or ACL entry). The
management path (hostname, management addresses, users, vty lines, AAA) is kept so the
device stays reachable.
"""

from __future__ import annotations

import hashlib
import random
import re

from nornir_tasks.sim.engine import ConfigEngine, Node
from nornir_tasks.sim.secrets_hash import salt_for, type7_encode, type8_hash, type9_hash

_PLACEHOLDER = re.compile(
    r"(?P<head>(?:secret|key|server-key|set-key ascii|password)) (?P<t>\d) <<secret:(?P<n>[^>]+)>>")


def _legacy_secrets(hostname: str, text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        # the old estate used one password per purpose everywhere (and it keeps the
        # scrypt cost to one hash per secret name for a whole estate)
        plain = f"legacy-{m['n']}"
        salt = salt_for(f"legacy {m['n']}")
        kind = m["t"]
        if kind == "9":
            value = f"9 {type9_hash(plain, salt)}"
        elif kind == "7":
            value = f"7 {type7_encode(plain, len(m['n']))}"
        else:
            value = f"8 {type8_hash(plain, salt)}"
        return f"{m['head']} {value}"

    return _PLACEHOLDER.sub(repl, text)


def _ports(root: Node, with_child: str) -> list[Node]:
    return [c for c in root.children if c.text.startswith("interface ")
            and "Ethernet" in c.text and any(k.text.startswith(with_child) for k in c.children)]


def seed_config(hostname: str, intended: str) -> str:
    """Render the pre-existing config of ``hostname`` from its intended config.

    >>> cfg = "hostname a\\nenable secret 9 <<secret:enable_secret>>\\nno ip http server\\n"
    >>> s = seed_config("a", cfg)
    >>> "<<secret" in s, "enable secret 9 $9$" in s, "ip http server" in s.splitlines()
    (False, True, True)
    >>> seed_config("a", cfg) == s
    True
    """
    rng = random.Random(hashlib.sha256(hostname.encode()).hexdigest())
    engine = ConfigEngine(hostname, _legacy_secrets(hostname, intended))
    root = engine.root
    lines = ["snmp-server community public RO", "ip http server",
             f"ntp server 10.1.{rng.randint(1, 250)}.123",
             f"logging host 10.1.{rng.randint(1, 250)}.14"]
    legacy_vlan = rng.choice((998, 999, 3999))
    lines += [f"vlan {legacy_vlan}", f"name LEGACY-{rng.choice(('PRINTERS', 'CAMERAS', 'OLD'))}",
              "exit"]
    for port in rng.sample(_ports(root, "description"),
                           min(2, len(_ports(root, "description")))):
        lines += [port.text, f"description {rng.choice(('old-link', 'printer', 'ledig'))}",
                  "exit"]
    access = _ports(root, "switchport access vlan")
    if access:
        lines += [rng.choice(access).text, f"switchport access vlan {legacy_vlan}", "exit"]
    snooping = [c.text for c in root.children if c.text.startswith("ip dhcp snooping vlan ")]
    if snooping:
        lines.append("no " + snooping[0])
    acls = [c for c in root.children if c.text.startswith("ip access-list extended ")]
    if acls:
        acl = rng.choice(acls)
        aces = [c.text for c in acl.children if "remark" not in c.text]
        if len(aces) > 1:
            lines += [acl.text, "no " + rng.choice(aces[:-1]).split()[0], "exit"]
    wlan_tags = [c for c in root.children if c.text.startswith("ap ")
                 and any(k.text.startswith("site-tag") for k in c.children)]
    if wlan_tags:
        lines += [rng.choice(wlan_tags).text, "site-tag default-site-tag", "exit"]
    session = engine.session()
    session.enter_config()
    for line in lines:
        err = session.apply(line)
        assert err is None, (line, err)
    return "\n".join(engine.running_config().splitlines()[3:]) + "\n"


def clean_config(hostname: str, intended: str) -> str:
    """The intended config as a device running it prints it (secrets as device hashes),
    without drift: a converged device, for tests that plant drift of their own.

    >>> "$9$" in clean_config("a", "hostname a\\nenable secret 9 <<secret:enable_secret>>\\n")
    True
    """
    engine = ConfigEngine(hostname, _legacy_secrets(hostname, intended))
    return "\n".join(engine.running_config().splitlines()[3:]) + "\n"
