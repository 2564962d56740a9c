"""A legacy switch migrated in place in three phases: pre-stage, move, clean-up.

Input is the device's legacy running config (hashes, as it prints it) and fellesnett's
intended config (``<<secret:name>>`` placeholders). The hier_config remediation between them
is computed once, on masked configs, exactly as :func:`nornir_tasks.live.remediation.plan`
does for a live push; each of its lines is then given to exactly one phase (or dropped, see
*superseded* below), so the three phases together are the whole remediation:

**pre-stage** — what the new design needs, added beside the legacy config without touching
a port or the management path: new VLANs, VRFs, new SVIs and other new interfaces that are
not ports, AAA / RADIUS / TACACS servers and method lists, 802.1X / IBNS class-maps,
policy-maps and service-templates, new ACLs, NTP, logging, SNMP additions, DHCP snooping and
the like. Precisely: every *addition* (a line of the intended config) that is not in a port
section, not in a non-port interface the legacy config already has, not a cut-over line
(below) and not a global ``no`` line. Pre-stage removes nothing: it has no line at global
level or under an existing section that starts with ``no``; the only ``no`` lines in it are
inside sections it creates (``no ip redirects`` on a new SVI), which remove nothing.

**move** — the port sections (physical ports and port-channels the intended config has),
each port's complete remediation (its ``no`` lines included), in batches of at most
``batch_size`` ports: access ports first, then AP ports, then uplinks, because the uplinks
carry the management session. A port's role is the riskier of what it is now and what it
becomes (a printer port that becomes an AP port is moved with the AP ports; a new uplink is
moved with the uplinks). The **cut-over** lines go in the last batch, after its ports:
additions to global config that can cut traffic or the session the change is sent through
(``spanning-tree mode|vlan|mst|... default``, ``vtp``, ``ip routing``, ``ip default-gateway``,
global-table ``ip route``, ``aaa new-model``, ``hostname`` (the prompt a runner matches),
``line`` sections (the VTY access-class), routing processes, changes to a legacy ACL) and
every change to a non-port interface the legacy config already has (existing SVIs). Send
the last batch as one unit: after it the switch is managed the new way.

**clean-up** — every remaining remediation line: removals of legacy lines (``no vlan 10``,
``no interface Vlan99``, ``no snmp-server community ...``, ``no ip http server``), global
``no`` lines of the intended config (``no logging console``), lines that undo a legacy
``no`` (``service pad``), and the ports the intended config does not have (``default
interface GigabitEthernet1/0/49``; ``no interface Port-channel1``), which may carry the
legacy path until the new one is proven.

*Superseded removals* are dropped: hier_config removes a legacy line before adding its
replacement (``no hostname OLD`` then ``hostname NEW``). Split across phases that order
turns round, and on IOS ``no snmp-server location Old`` after ``snmp-server location Ny``
removes the new location too. A removal whose positive form belongs to the same
single-valued command (one value per mode, :data:`nornir_tasks.sim.grammar.SINGLE`, the
project's model of IOS replace semantics) as an addition under the same parent is left out:
the addition replaces the legacy line on the device.

A rollback at any boundary is :func:`nornir_tasks.live.remediation.rollback_commands` from
the device's config at that moment back to the legacy config (:meth:`PhasedChange.rollback`):
both are device configs, so nothing is masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from hier_config import HConfig, HConfigChild, get_hconfig

from nornir_tasks.live.remediation import PLATFORM, Plan, plan, rollback_commands
from nornir_tasks.live.secrets import SecretStore
from nornir_tasks.sim.engine import opener_for
from nornir_tasks.sim.grammar import SINGLE

Role = Literal["access", "ap", "uplink"]
ROLES: tuple[Role, ...] = ("access", "ap", "uplink")

_PHYSICAL = re.compile(
    r"^(?:Fast|Gigabit|TwoGigabit|FiveGigabit|TenGigabit|TwentyFiveGig|FortyGigabit|"
    r"HundredGig|AppGigabit)E(?:thernet)?\d")
_PORT_CHANNEL = re.compile(r"^Port-channel\d")
_AP = re.compile(r"\bAP\b|(?i:access[ -]?point)|AP_TRUNK")
_CUTOVER_LINE = re.compile(
    r"^(?:hostname |vtp |ip routing$|ipv6 unicast-routing$|ip default-gateway |"
    r"ip route (?!vrf )|ipv6 route (?!vrf )|aaa new-model$|"
    r"spanning-tree (?:mode|vlan|mst|loopguard|pathcost|portfast\b.*\bdefault))")
_CUTOVER_SECTION = re.compile(r"^(?:line |router |spanning-tree mst configuration$)")
_NUMBERED_ACL = re.compile(r"^access-list (\d+) ")


def is_port(name: str) -> bool:
    """A physical port (or a sub-interface of one) or a port-channel.

    >>> [is_port(n) for n in ("GigabitEthernet1/0/1", "TwentyFiveGigE1/1/1",
    ...                       "Port-channel1", "Vlan100", "Loopback0")]
    [True, True, True, False, False]
    """
    return bool(_PHYSICAL.match(name) or _PORT_CHANNEL.match(name))


def port_role(section: list[str]) -> Role:
    """What one port's config lines make it: an uplink, an AP port or an access port.

    >>> port_role(["description AP 1", "switchport access vlan 60"])
    'ap'
    >>> port_role(["switchport mode trunk", "channel-group 1 mode active"])
    'uplink'
    >>> port_role(["switchport mode trunk", "spanning-tree portfast trunk"])
    'ap'
    >>> port_role(["switchport access vlan 10"])
    'access'
    """
    if any(_AP.search(line) for line in section):
        return "ap"
    if any(line.startswith("channel-group ") for line in section):
        return "uplink"
    if "switchport mode trunk" in section:
        edge = ("access-session", "dot1x", "mab", "spanning-tree portfast")
        return "ap" if any(line.startswith(edge) for line in section) else "uplink"
    return "access"


@dataclass(frozen=True)
class Batch:
    """One move step: the ports it touches and the commands that move them."""

    role: Role
    ports: tuple[str, ...]
    commands: list[str]
    #: the same commands with secrets masked, for review and dry runs
    masked: list[str] = field(repr=False)
    #: True for the batch that also carries the global cut-over lines (the last one)
    cutover: bool = False


@dataclass(frozen=True)
class PhasedChange:
    """A legacy device's migration: pre-stage, move batches, clean-up."""

    prestage: list[str]
    move: list[Batch]
    cleanup: list[str]
    legacy: str = field(repr=False)
    masked_prestage: list[str] = field(repr=False)
    masked_cleanup: list[str] = field(repr=False)
    #: secret lines left out because no store could fill them (see ``phases``)
    skipped: list[str] = field(default_factory=list)

    def steps(self) -> list[tuple[str, list[str]]]:
        """(title, commands) for every step, in the order they are sent."""
        out = [("pre-stage", self.prestage)]
        for i, b in enumerate(self.move, 1):
            out.append((_title(i, len(self.move), b), b.commands))
        out.append(("clean-up", self.cleanup))
        return out

    def display(self) -> list[str]:
        """Every step with its commands, secrets masked: fit for a dry run or a review.

        >>> change = phases("hostname a\\nsnmp-server community pub RO\\n",
        ...                 "hostname a\\nntp server 10.0.0.1\\n", None)
        >>> print("\\n".join(change.display()))
        ! pre-stage (1 commands)
        ntp server 10.0.0.1
        ! clean-up (1 commands)
        no snmp-server community <<secret>> RO
        """
        out: list[str] = []
        blocks = [("pre-stage", self.masked_prestage)]
        blocks += [(_title(i, len(self.move), b), b.masked) for i, b in enumerate(self.move, 1)]
        blocks.append(("clean-up", self.masked_cleanup))
        for title, lines in blocks:
            out.append(f"! {title} ({len(lines)} commands)")
            out.extend(lines)
        return out

    def rollback(self, current: str) -> list[str]:
        """Commands taking the device from ``current`` (its config now) back to legacy.

        :func:`rollback_commands` (whose banner removals are made fit to send: see
        :func:`~nornir_tasks.live.remediation.fix_banners`).
        """
        return rollback_commands(current, self.legacy)


def _title(i: int, n: int, b: Batch) -> str:
    extra = " + cut-over" if b.cutover else ""
    return f"move {i}/{n} ({b.role}: {', '.join(b.ports) or 'no ports'}{extra})"


# ---------------------------------------------------------------------------- classifying


def _paths(h: HConfig) -> set[tuple[str, ...]]:
    return {tuple(c.path()) for c in h.all_children()}


def _kind(path: tuple[str, ...]) -> str:
    """The engine's mode name for the section at ``path`` (global for the root)."""
    kind = "global"
    for text in path:
        op = opener_for(kind, text)
        kind = op.kind if op else "x-" + text.split()[0]
    return kind


def _family(kind: str, text: str) -> tuple[object, ...] | None:
    """The single-valued command ``text`` sets in mode ``kind``, if it is one."""
    body = text[3:] if text.startswith("no ") else text
    body = body.split("\n")[0]
    for idx, rule in enumerate(SINGLE):
        if kind in rule.kinds and (m := rule.key.match(body)):
            return (idx, m.groups() or m.group(0))
    return None


class _Classifier:
    def __init__(self, p: Plan) -> None:
        self.legacy = _paths(get_hconfig(PLATFORM, p.running.text))
        self.intended = _paths(get_hconfig(PLATFORM, p.intended.text))
        self.legacy_acls = {m[1] for path in self.legacy if len(path) == 1
                            if (m := _NUMBERED_ACL.match(path[0]))}

    def is_removal(self, child: HConfigChild) -> bool:
        """A line that takes legacy config away rather than adding intended config."""
        path = tuple(child.path())
        if path not in self.intended:
            return True
        text = child.text
        return text.startswith("no ") and (*path[:-1], text[3:]) in self.legacy

    def superseded(self, child: HConfigChild, siblings: list[HConfigChild]) -> bool:
        """A removal whose command an addition beside it sets anew (IOS replaces it)."""
        if not self.is_removal(child):
            return False
        kind = _kind(tuple(child.path())[:-1])
        fam = _family(kind, child.text)
        return fam is not None and any(
            s is not child and not self.is_removal(s) and _family(kind, s.text) == fam
            for s in siblings)

    def cutover(self, child: HConfigChild) -> bool:
        """A global addition (or section) that can cut traffic or the session."""
        text = child.text
        if child.children:
            return bool(_CUTOVER_SECTION.match(text))
        m = _NUMBERED_ACL.match(text)
        if m:
            return m[1] in self.legacy_acls
        return bool(_CUTOVER_LINE.match(text))


class _Tree:
    """A remediation subset being collected, same shape (and order weights) as the whole."""

    def __init__(self) -> None:
        self.root = get_hconfig(PLATFORM)

    def add(self, child: HConfigChild, text: str | None = None) -> None:
        parent: HConfig | HConfigChild = self.root
        for ancestor in tuple(child.path())[:-1]:
            parent = parent.add_child(ancestor, return_if_present=True)
        new = parent.add_deep_copy_of(child)
        if text is not None:
            new.text = text

    def empty(self) -> bool:
        return not self.root.children


def _removal_text(child: HConfigChild) -> str | None:
    """How a top-level removal is sent, where hier_config's own text will not do."""
    text = child.text
    if text.startswith("no interface "):
        name = text.split()[2]
        return f"default interface {name}" if _PHYSICAL.match(name) else None
    if text.startswith("no banner ") and "\n" in text:
        return " ".join(text.split()[:3])  # `no banner motd`, not the whole old text
    return None


def _section(h: HConfig, header: str) -> list[str]:
    found = h.get_child(equals=header)
    return [c.text for c in found.children] if found else []


# ---------------------------------------------------------------------------- phasing


def phases(legacy: str, intended: str, store: SecretStore | None, batch_size: int = 8,
           skipped: list[str] | None = None) -> PhasedChange:
    """The phased migration from ``legacy`` (a device config) to ``intended`` (rendered).

    Secrets are filled from ``store`` as :meth:`Plan.push_commands` does: with no store a
    line that needs one raises :class:`~nornir_tasks.live.remediation.SecretLineSkipped`,
    or, when ``skipped`` is given, is left out and recorded there.

    >>> legacy = ("hostname OLD\\nvlan 10\\n name A\\ninterface GigabitEthernet1/0/1\\n"
    ...           " switchport access vlan 10\\n")
    >>> intended = ("hostname new\\nvlan 110\\n name B\\ninterface GigabitEthernet1/0/1\\n"
    ...             " switchport access vlan 110\\n")
    >>> change = phases(legacy, intended, SecretStore({}))
    >>> change.prestage
    ['vlan 110', '  name B', '  exit']
    >>> [(b.role, b.ports, b.commands) for b in change.move]
    [('access', ('GigabitEthernet1/0/1',), ['interface GigabitEthernet1/0/1', \
'  no switchport access vlan 10', '  switchport access vlan 110', '  exit', 'hostname new'])]
    >>> change.cleanup
    ['no vlan 10']
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    p = plan(legacy, intended)
    cls = _Classifier(p)
    legacy_h = get_hconfig(PLATFORM, p.running.text)
    intended_h = get_hconfig(PLATFORM, p.intended.text)
    pre, cut, clean = _Tree(), _Tree(), _Tree()
    ports: dict[Role, list[tuple[str, HConfigChild]]] = {r: [] for r in ROLES}

    def split(node: HConfig | HConfigChild, additions: _Tree) -> None:
        """Removals to clean-up, additions to ``additions``, recursing into old sections."""
        kids = list(node.children)
        for child in kids:
            path = tuple(child.path())
            if cls.superseded(child, kids):
                continue
            if cls.is_removal(child):
                clean.add(child)
            elif child.children and path in cls.legacy:
                split(child, additions)
            elif child.text.startswith("no "):
                clean.add(child)  # pre-stage sends no `no` line under an existing section
            else:
                additions.add(child)

    top = list(p.remediation.children)
    for child in top:
        text = child.text
        name = text.split()[1] if text.startswith("interface ") else ""
        if name and is_port(name):
            header = f"interface {name}"
            role = max(port_role(_section(legacy_h, header)),
                       port_role(_section(intended_h, header)), key=ROLES.index)
            ports[role].append((name, child))
        elif name and (text,) in cls.legacy:
            split(child, cut)  # an existing SVI (or loopback, tunnel): moves at cut-over
        elif cls.superseded(child, top):
            continue
        elif cls.is_removal(child) or text.startswith("no "):
            clean.add(child, _removal_text(child))
        elif cls.cutover(child) and (text,) in cls.legacy:
            split(child, cut)
        elif cls.cutover(child):
            cut.add(child)
        elif (text,) in cls.legacy:
            split(child, pre)
        else:
            pre.add(child)

    def send(tree: _Tree) -> tuple[list[str], list[str]]:
        sub = Plan(tree.root, p.running, p.intended)
        return sub.push_commands(store, skipped), sub.commands(lambda c: c.text)

    batches: list[tuple[Role, list[tuple[str, HConfigChild]]]] = []
    for role in ROLES:
        group = ports[role]
        batches += [(role, group[i:i + batch_size]) for i in range(0, len(group), batch_size)]
    if not cut.empty() and not batches:
        batches.append(("uplink", []))
    move: list[Batch] = []
    for n, (role, group) in enumerate(batches, 1):
        tree = _Tree()
        for _, child in group:
            tree.add(child)
        commands, masked = send(tree)
        last = n == len(batches) and not cut.empty()
        if last:
            more, more_masked = send(cut)
            commands, masked = commands + more, masked + more_masked
        move.append(Batch(role, tuple(name for name, _ in group), commands, masked, last))

    pre_cmds, pre_masked = send(pre)
    clean_cmds, clean_masked = send(clean)
    return PhasedChange(pre_cmds, move, clean_cmds, legacy, pre_masked, clean_masked,
                        skipped if skipped is not None else [])
