"""The ACL decisions of the proof, as bit masks over the probes.

Why: every pair of the proof meets a handful of ACLs, and each ACL has to be asked, for
every probe of the matrix, whether it permits the packet and which line decides. Asking
:func:`nornir_tasks.acl_eval.evaluate` once per pair, ACL and probe would be the proof's
whole cost.

How it scales: an ACL entry matches an address exactly when the address is in the
entry's prefix, so two addresses that fall in the same ACL prefixes meet the same
decisions. An address's *signature* is the set of ACL prefixes of the whole estate it
falls in (a bitmask, one lookup per prefix length); an ACL is evaluated once per (its
content, the part of the source's and destination's signatures its own prefixes make up,
direction), whatever device it sits on and however many pairs meet it. The result is a
permit mask (bit i: probe i passes) and the deciding entry per probe, which
:func:`rule_line` turns into the line a finding names.
"""

from __future__ import annotations

from nornir_tasks.acl_eval import CompiledAcl, Shape, compile_acl, shape
from nornir_tasks.design.structured import AclEntry
from nornir_tasks.verify.matrix import Matrix
from nornir_tasks.verify.model import Acl, DeviceText, Net
from nornir_tasks.verify.routing import AclRef

UNDEFINED = -2  # decider of an access-group whose ACL does not exist (filters nothing)
IMPLICIT = -1  # the implicit deny at the end of an ACL

Part = tuple[AclRef, int, tuple[int, ...]]  # an ACL met, its permit mask, the deciders


class AclMasks:
    """Permit masks over the probes, per ACL and per class of source/destination.

    An address's class is the set of ACL prefixes of the whole estate it falls in (a
    bitmask): two addresses of one class meet the same decision in every ACL.
    """

    def __init__(self, matrix: Matrix, nets: list[Net]) -> None:
        self.probes = matrix.probes
        self.all = matrix.all
        self.nets = nets
        self._sig: dict[int, int] = {}
        self._mask: dict[tuple[int, int, int, bool], tuple[int, tuple[int, ...]]] = {}
        self._acl_keys: dict[int, tuple[int, int]] = {}  # id(acl) -> (content, its prefixes)
        self._contents: dict[tuple[AclEntry, ...], int] = {}
        self._compiled: list[CompiledAcl] = []  # per content
        # the probes' fields besides their addresses, from the packets the matrix sends
        self._shapes: dict[bool, list[Shape]] = {
            reply: [shape(p.reply(0, 0) if reply else p.packet(0, 0)) for p in self.probes]
            for reply in (False, True)}
        self._bit = {(n.addr, n.plen): 1 << i for i, n in enumerate(nets)}
        by_len: dict[int, dict[int, int]] = {}
        for i, n in enumerate(nets):
            bits = by_len.setdefault(n.plen, {})
            bits[n.addr] = bits.get(n.addr, 0) | 1 << i
        self._by_len = [(Net(0, plen).mask, bits) for plen, bits in sorted(by_len.items())]

    def signature(self, ip: int) -> int:
        sig = self._sig.get(ip)
        if sig is None:
            sig = 0
            for mask, bits in self._by_len:
                sig |= bits.get(ip & mask, 0)
            self._sig[ip] = sig
        return sig

    def mask(self, acl: Acl | None, src: int, dst: int, reply: bool) -> tuple[int,
                                                                             tuple[int, ...]]:
        """(permit mask, deciding entry ordinal per probe) for packets src -> dst.

        For ``reply`` the packets are the replies: from ``dst`` back to ``src``.
        """
        if acl is None:
            return self.all, (UNDEFINED,) * len(self.probes)
        # only the ACL's own prefixes decide: addresses that fall in the same ones of them
        # meet the same entries (whatever other ACLs of the estate say about them); and
        # the same entries on two devices (the core pair) decide the same
        known = self._acl_keys.get(id(acl))
        if known is None:
            known = self._acl_keys[id(acl)] = self._acl_key(acl)
        content, bits = known
        key = (content, self.signature(src) & bits, self.signature(dst) & bits, reply)
        hit = self._mask.get(key)
        if hit is None:
            hit = self._mask[key] = self._decide(self._compiled[content], src, dst, reply)
        return hit

    def _acl_key(self, acl: Acl) -> tuple[int, int]:
        """(the ACL's content, compiled once per content; the bits of its prefixes)."""
        bits = 0
        for e in acl.entries:
            for n in (e.source, e.destination):
                if n is not None:
                    bits |= self._bit[(int(n.network_address), n.prefixlen)]
        entries = tuple(acl.entries)
        content = self._contents.get(entries)
        if content is None:
            content = self._contents[entries] = len(self._compiled)
            self._compiled.append(compile_acl(entries))
        return content, bits

    def _decide(self, acl: CompiledAcl, src: int, dst: int, reply: bool
                ) -> tuple[int, tuple[int, ...]]:
        """Every probe through one ACL: the entries the addresses match are found once
        (replies travel from ``dst`` to ``src``), then each probe's first match."""
        rules = acl.addressed(dst, src) if reply else acl.addressed(src, dst)
        m = 0
        deciders = []
        for i, s in enumerate(self._shapes[reply]):
            entry = CompiledAcl.first(rules, s)
            if entry is None:
                deciders.append(IMPLICIT)
                continue
            if entry.action == "permit":
                m |= 1 << i
            deciders.append(entry.seq)
        return m, tuple(deciders)

    def path_mask(self, acls: tuple[AclRef, ...], src: int, dst: int, reply: bool
                  ) -> tuple[int, list[Part]]:
        """The probes every ACL of a path permits, and each ACL's own decisions."""
        mask = self.all
        parts = []
        for ref in acls:
            m, dec = self.mask(ref.acl, src, dst, reply)
            mask &= m
            parts.append((ref, m, dec))
        return mask, parts


def acl_nets(devices: dict[str, DeviceText]) -> list[Net]:
    """Every prefix an ACL entry of the estate names, in address order."""
    nets: set[Net] = set()
    for dev in devices.values():
        for acl in dev.acls.values():
            for e in acl.entries:
                for n in (e.source, e.destination):
                    if n is not None:
                        nets.add(Net.of(n))
    return sorted(nets, key=lambda n: (n.addr, n.plen))


def rule_line(ref: AclRef, ordinal: int) -> tuple[int | None, str]:
    """The line that decided (line number, text): the entry, the ACL header for the
    implicit deny, the access-group line of an ACL that does not exist."""
    acl = ref.acl
    if acl is None:
        return ref.line.lineno, ref.line.text
    if ordinal == IMPLICIT:
        if acl.line is not None:
            return acl.line.lineno, f"{acl.line.text} (implicit deny at the end)"
        return ref.line.lineno, f"{ref.line.text} (implicit deny)"
    rule = acl.rules[ordinal]
    return rule.line.lineno, rule.line.text
