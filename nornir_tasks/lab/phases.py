"""The lab's probing phases on a built lab: the matrix probes, the adversarial probes, the
real daemons and the required-flow clients.

Each phase talks to the agents (:class:`~nornir_tasks.lab.topology.Lab`) in batches: one
request per namespace, all sent before any answer is read, so every namespace works at
once and the whole lab is paced as one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nornir_tasks.intent.loader import Intent
from nornir_tasks.lab import services
from nornir_tasks.lab.adversarial import AdversarialPlan, AdversarialResult
from nornir_tasks.lab.probes import Probe
from nornir_tasks.lab.required import RequiredPlan, RequiredProbe
from nornir_tasks.lab.topology import Lab, LabEnvironmentError

PROBE_TIMEOUT = 2.0  # per probe: one SYN retransmission (1 s) fits; drops cost this once
#: matrix probe starts per second for the whole lab. All at once, a large lab sends
#: thousands of first packets in one burst and the veths drop some (the kernel's per-CPU
#: backlog is a host-wide setting the lab must not touch): allowed TCP flows would then
#: time out.
PROBE_RATE = 1500.0
#: crafted packets per second for the whole lab. The switches run in one ovs-vswitchd
#: thread (userspace datapath): measured here, 12,000 packets per second that each cross
#: four OVS ports arrived without loss, 20,000 lost 4 %; most crafted packets cross two
#: ports (they die at the core) or none (server to server). On the 2-core machine the
#: default sites' 275,704 probes arrived without loss at 22,000 per second and lost half
#: of them at 24,000 (the CPU saturates): this leaves a margin.
ADVERSARIAL_RATE = 20000.0
SETTLE = 0.5  # after the last crafted packet, before the sniffers are read
#: a probe predicted to pass and not seen is sent again (a drop on a busy veth is not a
#: verdict); a probe seen passing is never sent again: arrival is proof
RESEND_ROUNDS = 2
#: when more of the probes predicted to pass arrive only when sent again than this share,
#: the first round lost packets (a busy machine), and a probe predicted to be dropped may
#: have been lost too: every unseen probe is then sent again, at half the rate, so a
#: wrongly passing one is still caught. (Unseen probes predicted to pass that stay unseen
#: are disagreements, not losses: they do not count.) Below it, a fault that lets even
#: five crafted packets through is missed with a chance under 0.02 ** 5.
LOSS_LIMIT = 0.02
DAEMON_TIMEOUT = 20.0
CLIENT_TIMEOUT = 40.0  # radtest alone may retry for 3 x 3 s
CLIENT_WORKERS = 12


# --------------------------------------------------------------------------- matrix


def matrix(lab: Lab, probes: Sequence[Probe]) -> dict[int, dict[str, Any]]:
    """Every matrix probe's result by id: ``reached``, ``detail``, ``ms``. A one-way
    probe reached its destination when the receiving agent got it."""
    batches: dict[str, list[dict[str, Any]]] = {}
    for p in probes:
        batches.setdefault(p.source.namespace, []).append({
            "id": p.id, "proto": p.proto, "src": str(p.source.address),
            "dst": str(p.destination.address), "port": p.port, "sport": p.sport,
            "oneway": p.oneway, "timeout": PROBE_TIMEOUT})
    # every agent starts its probes evenly spread over the same time, so the lab as a
    # whole starts PROBE_RATE per second and no namespace's share takes longer
    spread = len(probes) / PROBE_RATE
    for batch in batches.values():
        for k, spec in enumerate(batch):
            spec["delay"] = round(k * spread / len(batch), 4)
    answers = lab.ask({n: {"probes": b} for n, b in batches.items()}, PROBE_TIMEOUT + spread)
    results = {int(r["id"]): r for a in answers.values() for r in a["results"]}
    arrived = {int(i) for a in lab.ask_all({"oneway": True}).values() for i in a["ids"]}
    for p in probes:
        if p.oneway and p.id in results:
            r = results[p.id]
            r["reached"] = p.id in arrived
            r["detail"] = "arrived" if r["reached"] else "did not arrive"
    return results


# --------------------------------------------------------------------------- adversarial


def adversarial(lab: Lab, adv: AdversarialPlan, predicted: bytes,
                first: Sequence[int] = ()) -> AdversarialResult:
    """Send every crafted probe, see what arrives, resend what should have arrived and
    did not (up to :data:`RESEND_ROUNDS` times), and everything unseen once more when the
    resends show that the first round lost packets.

    ``first`` (:func:`~nornir_tasks.lab.adversarial.firewall_first`): the probes only a
    connection's state could let through the firewall of a stateful pair. They go out
    before all others, to a firewall that has forgotten every connection (and again so
    when unseen probes are sent once more)."""
    t0 = time.monotonic()
    lab.ask_all({"sniff": "start"})
    seen: set[int] = set()
    drops = [0]
    notes: list[str] = []
    early = set(first)

    def send(ids: list[int], rate: float) -> int:
        """One round: every source namespace at its share of ``rate``; the send errors."""
        if not ids:
            return 0
        batches = adv.by_namespace(ids)
        total = sum(len(b) for b in batches.values())
        # each agent sends at its share of the rate: every agent ends at the same time
        reqs = {ns: {"flood": {"rate": rate * len(b) / total, "packets": b}}
                for ns, b in batches.items()}
        answers = lab.ask(reqs, total / rate + 10)
        time.sleep(SETTLE)
        for a in lab.ask_all({"sniff": "collect"}).values():
            seen.update(a["seen"])
            drops[0] += int(a["drops"])
        return sum(int(a.get("errors", 0)) for a in answers.values())

    def send_ordered(ids: list[int], rate: float) -> int:
        """``first`` on a clean firewall, then the rest."""
        if early:
            lab.flush_firewall()
        errors = send([i for i in ids if i in early], rate)
        return errors + send([i for i in ids if i not in early], rate)

    errors = send_ordered(list(range(len(adv))), ADVERSARIAL_RATE)
    should = sum(predicted)
    resent = 0
    for round_ in range(RESEND_ROUNDS):
        lost = [i for i in range(len(adv)) if predicted[i] and i not in seen]
        if not lost:
            break
        resent += len(lost)
        send(lost, ADVERSARIAL_RATE)
        recovered = sum(1 for i in lost if i in seen)
        if round_ == 0 and (errors or recovered > LOSS_LIMIT * max(1, should)):
            rest = [i for i in range(len(adv)) if not predicted[i] and i not in seen]
            notes.append(f"first round: {recovered} of {should} probes predicted to pass "
                         f"arrived only when sent again, {errors} could not be sent (a busy "
                         f"machine): the {len(rest)} unseen probes predicted to be dropped "
                         "were sent again at half the rate")
            resent += len(rest)
            send_ordered(rest, ADVERSARIAL_RATE / 2)
    for a in lab.ask_all({"sniff": "stop"}).values():
        seen.update(a["seen"])
        drops[0] += int(a["drops"])
    return AdversarialResult(adv, predicted, seen, resent, drops[0],
                             round(time.monotonic() - t0, 2), notes=notes)


# --------------------------------------------------------------------------- daemons


def start_daemons(lab: Lab, intent: Intent, req: RequiredPlan,
                  creds: services.Credentials) -> None:
    """Hand the daemons' ports over from the agents' echo listeners, then start them."""
    release: dict[str, list[list[Any]]] = {}
    for d in req.daemons:
        if d.release and d.namespace in lab.agents:
            release.setdefault(d.namespace, []).extend([p, n] for p, n in d.release)
    if release:
        lab.ask({ns: {"close": items} for ns, items in release.items()}, 5)
    if any(d.kind == "sshd" for d in req.daemons):
        for cmd in services.keygen_commands(lab.workdir, creds):
            code, out = lab.run_in("core", cmd, 20)
            if code:
                raise LabEnvironmentError(f"ssh-keygen failed: {out.strip()}")
    for d in req.daemons:
        try:
            cmd = services.daemon_command(intent, d, lab.workdir, creds)
        except (OSError, ValueError) as exc:
            raise LabEnvironmentError(f"cannot configure {d.name}: {exc}") from None
        lab.started[d.name] = lab.spawn_in(d.namespace, d.name, cmd)


def wait_daemons(lab: Lab, req: RequiredPlan) -> None:
    """Until every daemon's log says it serves (LabEnvironmentError if one never does)."""
    deadline = time.monotonic() + DAEMON_TIMEOUT
    waiting = list(req.daemons)
    while waiting:
        for d in list(waiting):
            log = services.log_path(lab.workdir, d)
            if log.exists() and services.READY[d.kind] in log.read_text(errors="replace"):
                waiting.remove(d)
            elif lab.started[d.name].poll() is not None or time.monotonic() > deadline:
                tail = _tail(log) or _tail(lab.workdir / f"{d.name}.stderr")
                raise LabEnvironmentError(f"{d.name} did not start in {d.namespace}: {tail}")
        time.sleep(0.05)


def _tail(path: Path) -> str:
    if not path.exists():
        return ""
    lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    return " | ".join(lines[-3:])


# --------------------------------------------------------------------------- clients


@dataclass(frozen=True)
class RequiredResult:
    probe: RequiredProbe
    ok: bool
    detail: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        p = self.probe
        return {"id": p.id, "flow": p.flow, "kind": p.kind, "site": p.site,
                "source": p.source, "destination": p.destination, "probe": p.probe,
                "ok": self.ok, "detail": self.detail, "seconds": self.seconds}


def required(lab: Lab, req: RequiredPlan, creds: services.Credentials) -> list[RequiredResult]:
    """Every required-flow client, run in parallel in its namespace."""

    def one(p: RequiredProbe) -> RequiredResult:
        t = time.monotonic()
        code, out = lab.run_in(p.namespace, services.client_command(p, creds), CLIENT_TIMEOUT)
        ok, detail = services.judge(p, code, out)
        return RequiredResult(p, ok, detail, round(time.monotonic() - t, 2))

    with ThreadPoolExecutor(CLIENT_WORKERS) as pool:
        return list(pool.map(one, req.probes))
