"""Running vs intended with hier_config: what to send, and how to undo it.

Comparison always happens on masked configs (see :mod:`nornir_tasks.live.secrets`), so a
remediation shows and changes only what differs apart from secret values. The commands
actually sent are produced at push time from the masked remediation: masked lines get their
real text back (the plaintext from the secret store for a line being added, the device's own
line for a line being removed). A rollback is computed between two device configs, which
carry hashes and no placeholders, so it can always be sent as it is.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from hier_config import HConfig, HConfigChild, Platform, WorkflowRemediation, get_hconfig

from nornir_tasks.live.secrets import (
    MASK,
    PLACEHOLDER,
    MaskedConfig,
    SecretStore,
    fill_secrets,
    mask_config,
)

PLATFORM = Platform.CISCO_IOS  # hier_config's IOS driver also covers IOS-XE and the C9800


class SecretLineSkipped(Exception):
    """A line needs a secret nobody can supply (restoring from a scrubbed backup)."""


def _hconfig(text: str) -> HConfig:
    return get_hconfig(PLATFORM, text)


@dataclass(frozen=True)
class Plan:
    """The remediation of one device, as hier_config computed it on masked configs."""

    remediation: HConfig
    running: MaskedConfig
    intended: MaskedConfig

    @property
    def empty(self) -> bool:
        return not self.remediation.children

    def display(self) -> list[str]:
        """Remediation lines, indented, secrets masked: fit for a review comment."""
        return list(self.remediation.lines())

    def count(self) -> int:
        """Number of commands (section headers that only carry children excluded)."""
        return sum(1 for c in self.remediation.all_children_sorted() if not c.children)

    def commands(self, resolve: Callable[[HConfigChild], str | None]) -> list[str]:
        """The commands to send, with sectional exits, each line passed through ``resolve``."""
        return list(_emit(self.remediation, resolve))

    def push_commands(self, store: SecretStore | None,
                      skipped: list[str] | None = None) -> list[str]:
        """Commands for a device: secrets filled from ``store``, removals as the device has them.

        A secret line that cannot be filled (no ``store``: the target only exists in a
        scrubbed form) raises :class:`SecretLineSkipped`, or, when ``skipped`` is given, is
        left out and recorded there: a placeholder is never sent.
        """
        def resolve(child: HConfigChild) -> str | None:
            try:
                return fill(child)
            except SecretLineSkipped:
                if skipped is None:
                    raise
                skipped.append(child.cisco_style_text().strip())
                return None

        def fill(child: HConfigChild) -> str:
            text = child.text
            if MASK not in text:
                return text
            path = tuple(child.path())
            if text.startswith("no "):
                own = self.running.original(path[:-1] + (text[3:],))
                if own is None:
                    raise SecretLineSkipped(" / ".join(path))
                return "no " + own.strip()
            original = self.intended.original(path)
            if original is None or store is None or not PLACEHOLDER.search(original):
                raise SecretLineSkipped(" / ".join(path))
            return fill_secrets(original.strip(), store)

        return fix_banners(self.commands(resolve))


def _emit(node: HConfig | HConfigChild, resolve: Callable[[HConfigChild], str | None]
          ) -> Iterator[str]:
    for child in sorted(node.children):
        text = resolve(child)
        if text is None:
            continue
        yield child.indentation + text
        yield from _emit(child, resolve)
        if child.children and (exit_text := child.sectional_exit):
            depth = child.depth() - 1 if child.sectional_exit_text_parent_level else child.depth()
            yield " " * child.driver.rules.indentation * depth + exit_text


def plan(running: str, intended: str, rotate: frozenset[str] = frozenset()) -> Plan:
    """Remediation that takes ``running`` to ``intended``, secrets masked on both sides.

    ``rotate`` names secrets whose lines are sent even though they compare equal masked.

    >>> p = plan("hostname a\\nenable secret 9 $9$x$y\\nsnmp-server location Old\\n",
    ...          "hostname a\\nenable secret 9 <<secret:en>>\\nsnmp-server location Ny\\n")
    >>> p.display()
    ['no snmp-server location Old', 'snmp-server location Ny']
    >>> p.push_commands(SecretStore({}))
    ['no snmp-server location Old', 'snmp-server location Ny']
    >>> plan("enable secret 9 $9$x$y\\n", "enable secret 9 <<secret:en>>\\n",
    ...      frozenset({"en"})).push_commands(SecretStore({"FELLESNETT_SECRET_EN": "pw"}))
    ['enable secret 0 pw']
    """
    run_m, int_m = mask_config(running), mask_config(intended)
    remediation = WorkflowRemediation(_hconfig(run_m.text), _hconfig(int_m.text)).remediation_config
    if rotate:
        for path, original in sorted(int_m.originals.items()):
            names = {m["name"] for m in PLACEHOLDER.finditer(original)}
            if names & rotate:
                remediation.add_children_deep(path)
    return Plan(remediation, run_m, int_m)


def rollback_commands(current: str, target: str) -> list[str]:
    """Commands that take a device from ``current`` back to ``target`` (both device configs).

    Both carry real hashes, so nothing is masked and every line can be sent as it is.

    >>> rollback_commands("hostname a\\nntp server 10.1.1.1\\n", "hostname a\\n")
    ['no ntp server 10.1.1.1']
    """
    rem = WorkflowRemediation(_hconfig(current), _hconfig(target)).remediation_config
    return fix_banners(list(_emit(rem, lambda c: c.text)))


def fix_banners(commands: list[str]) -> list[str]:
    """Multi-line ``no banner`` commands made fit to send (see :meth:`PhasedChange.rollback`).

    >>> fix_banners(["no banner motd ^C\\nOld\\n^C", "banner motd ^C\\nNew\\n^C"])
    ['banner motd ^C\\nNew\\n^C']
    >>> fix_banners(["no banner login ^C\\nOld\\n^C", "ntp server 10.0.0.1"])
    ['no banner login', 'ntp server 10.0.0.1']
    """
    set_again = {" ".join(c.split()[:2]) for c in commands if c.startswith("banner ")}
    out: list[str] = []
    for c in commands:
        if c.startswith("no banner ") and "\n" in c:
            head = " ".join(c.split()[1:3])
            if head in set_again:
                continue
            c = "no " + head
        out.append(c)
    return out


def converged(current: str, target: str, masked: bool) -> list[str]:
    """Lines still differing between ``current`` and ``target`` (empty when converged)."""
    if masked:
        current, target = mask_config(current).text, mask_config(target).text
    rem = WorkflowRemediation(_hconfig(current), _hconfig(target)).remediation_config
    return list(rem.lines())


#: below this many devices a process pool costs more than it saves
PARALLEL_PLANS = 16


def _summary(pair: tuple[str, str]) -> tuple[int, list[str]]:
    p = plan(*pair)
    return p.count(), p.display()


def plan_summaries(pairs: dict[str, tuple[str, str]], workers: int | None = None
                   ) -> dict[str, tuple[int, list[str]]]:
    """(command count, masked remediation lines) per host for (running, intended) pairs.

    >>> plan_summaries({"sw1": ("hostname a\\nip http server\\n", "hostname a\\n")})
    {'sw1': (1, ['no ip http server'])}
    """
    hosts = sorted(pairs)
    workers = workers or os.cpu_count() or 1
    if len(hosts) < PARALLEL_PLANS or workers < 2:
        return {h: _summary(pairs[h]) for h in hosts}
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        done = pool.map(_summary, [pairs[h] for h in hosts], chunksize=8)
        return dict(zip(hosts, done, strict=True))
