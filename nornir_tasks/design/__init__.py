"""Design step: intent -> structured config per device, chosen by the model's platform."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Platform


def _builders() -> dict[Platform, Callable[[Intent, str], Any]]:
    from nornir_tasks.design.switch import build_switch
    from nornir_tasks.design.wlc import build_wlc

    return {Platform.ios_xe: build_switch, Platform.c9800: build_wlc}


def design_device(intent: Intent, host: str) -> Any:
    """Structured config of one device (a SwitchConfig or a WlcConfig)."""
    platform = intent.device_models[intent.devices[host].model].platform
    builders = _builders()
    if platform not in builders:
        raise ValueError(f"{host}: platform {platform.value} has no config of its own")
    return builders[platform](intent, host)
