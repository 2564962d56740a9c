"""``verify``'s prediction of every adversarial probe, computed while the lab is built.

The prediction reads the RENDERED CONFIG TEXT of the core switches (rendered here from
the intent, or read from a build output with ``--configs``) through
:func:`nornir_tasks.verify.exposure.exposure_model`, never the terms the lab loads. It takes
seconds (rendering the cores, the exposure model, one :meth:`Exposure.permits` per probe),
so it runs in a forked child while the parent builds the lab and sends the first round of
probes; the parent needs it only to decide what to send again. Where the core routes a
stateful pair to the firewall, the firewall's generated policy decides too (read by
``verify``'s reader: :func:`nornir_tasks.lab.adversarial.predict`).
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Role
from nornir_tasks.lab.adversarial import AdversarialPlan, firewall_held, predict
from nornir_tasks.lab.firewall import FirewallHop
from nornir_tasks.lab.plan import LabInputError

JOIN_TIMEOUT = 600.0


@dataclass
class Prediction:
    bits: bytes
    exposure: list[dict[str, object]] = field(default_factory=list)  # verify's table
    seconds: float = 0.0
    #: the probes only the firewall's state stops (:func:`firewall_held`)
    held: list[int] = field(default_factory=list)


def core_configs(intent: Intent) -> dict[str, str]:
    """The rendered configs of the core switches: the policy point's ACLs live there."""
    from nornir_tasks.build import render_host

    return {h: render_host(intent, h) for h, d in sorted(intent.devices.items())
            if d.role is Role.core}


def compute(intent: Intent, adv: AdversarialPlan,
            configs: dict[str, str] | None = None,
            firewall: FirewallHop | None = None) -> Prediction:
    """The prediction in this process (``firewall``: the hop of the stateful pairs)."""
    from nornir_tasks.verify.exposure import exposure_model

    t0 = time.monotonic()
    try:
        model = exposure_model(intent, configs if configs is not None else core_configs(intent))
    except ValueError as exc:
        raise LabInputError(f"cannot predict the adversarial probes: {exc}") from None
    return Prediction(predict(model, adv, firewall), model.to_data(),
                      round(time.monotonic() - t0, 2), firewall_held(model, adv, firewall))


class Background:
    """:func:`compute` in a forked child; :meth:`result` waits for it."""

    def __init__(self, intent: Intent, adv: AdversarialPlan,
                 configs: dict[str, str] | None = None,
                 firewall: FirewallHop | None = None) -> None:
        ctx = multiprocessing.get_context("fork")  # the child shares the intent: no pickling
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(send, intent, adv, configs, firewall),
                                 name="fellesnett-lab-prediction", daemon=True)
        self._proc.start()
        send.close()
        self._result: Prediction | None = None

    def result(self) -> Prediction:
        if self._result is None:
            if not self._recv.poll(JOIN_TIMEOUT):
                self.stop()
                raise LabInputError("the prediction of the adversarial probes did not finish")
            try:
                kind, value = self._recv.recv()
            except EOFError:
                raise LabInputError("the prediction of the adversarial probes died "
                                    f"(exit {self._proc.exitcode})") from None
            self._proc.join(5)
            if kind == "error":
                raise LabInputError(str(value))
            self._result = value
        assert self._result is not None
        return self._result

    def stop(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
        self._recv.close()


def _child(send: Connection, intent: Intent, adv: AdversarialPlan,
           configs: dict[str, str] | None, firewall: FirewallHop | None) -> None:
    out: tuple[str, Any]
    try:
        out = ("ok", compute(intent, adv, configs, firewall))
    except Exception as exc:  # the parent reports it; a child must never raise past here
        out = ("error", f"{type(exc).__name__}: {exc}")
    send.send(out)
    send.close()
