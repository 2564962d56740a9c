"""The devices to survey: a plain list, apart from the intent (they are not in it yet).

::

    credentials:
      skolenett: {username_env: SKOLENETT_USER, password_env: SKOLENETT_PASSWORD}
    devices:
      - {host: alta-skole-sw01, address: 10.10.99.2, platform: cisco_ios, credentials: skolenett}
      - {host: servicetorget-sw01, address: 10.20.199.5, platform: aruba_os_switch,
         credentials: kommunenett}

Credentials are references (environment variable names), never values. With ``--sim``
the simulators' state file gives every host's 127.0.0.1 port and login instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from nornir.core.inventory import ConnectionOptions, Defaults, Groups, Host, Hosts, Inventory
from nornir.core.plugins.inventory import InventoryPluginRegister
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nornir_tasks.errors import UsageError, key_path

PLUGIN_NAME = "FellesnettSurvey"
#: Nornir platform (netmiko device_type / NAPALM driver) per survey platform
NETMIKO = {"cisco_ios": "cisco_ios", "aruba_os_switch": "hp_procurve"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credential(_Strict):
    username_env: str
    password_env: str


class SurveyDevice(_Strict):
    host: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    address: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    platform: Literal["cisco_ios", "aruba_os_switch"]
    credentials: str | None = None


class SurveyList(_Strict):
    credentials: dict[str, Credential] = Field(default_factory=dict)
    devices: list[SurveyDevice]


@dataclass(frozen=True)
class Login:
    address: str
    port: int
    username: str
    password: str


def load_list(path: Path) -> SurveyList:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the device list: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the device list must be a mapping with `devices`")
    try:
        survey = SurveyList.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        what = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise UsageError(f"{path}: {key_path(*first['loc']) or '(top)'}: {what}") from None
    seen: set[str] = set()
    for i, dev in enumerate(survey.devices):
        where = key_path("devices", i)
        if dev.host in seen:
            raise UsageError(f"{path}: {where}.host: {dev.host!r} is listed twice")
        seen.add(dev.host)
        if dev.credentials is not None and dev.credentials not in survey.credentials:
            raise UsageError(f"{path}: {where}.credentials: no credentials "
                             f"{dev.credentials!r} under `credentials`")
    return survey


def logins(survey: SurveyList, path: Path, sim_dir: Path | None,
           env: Mapping[str, str] | None = None) -> dict[str, Login]:
    """Where and as whom to log in to each device."""
    if sim_dir is not None:
        from nornir_tasks.sim.manager import load_state

        state = load_state(sim_dir)
        missing = [d.host for d in survey.devices if d.host not in state.hosts]
        if missing:
            raise UsageError(f"--sim: no simulator for {', '.join(missing)}")
        return {d.host: Login("127.0.0.1", state.port(d.host), state.username, state.password)
                for d in survey.devices}
    env = os.environ if env is None else env
    out = {}
    for i, dev in enumerate(survey.devices):
        where = f"{path}: {key_path('devices', i)}"
        if dev.address is None:
            raise UsageError(f"{where}.address: needed to survey a real device")
        if dev.credentials is None:
            raise UsageError(f"{where}.credentials: needed to survey a real device")
        cred = survey.credentials[dev.credentials]
        user, password = env.get(cred.username_env), env.get(cred.password_env)
        if not user or not password:
            raise UsageError(f"{where}: set {cred.username_env} and {cred.password_env} "
                             f"(credentials {dev.credentials!r})")
        out[dev.host] = Login(dev.address, dev.port, user, password)
    return out


class SurveyInventory:
    """Nornir inventory plugin for the survey list."""

    def __init__(self, survey: SurveyList, logins: dict[str, Login], timeout: float = 10.0,
                 **_: Any) -> None:
        self.survey, self.logins, self.timeout = survey, logins, timeout

    def load(self) -> Inventory:
        hosts = Hosts()
        for dev in self.survey.devices:
            login = self.logins[dev.host]
            hosts[dev.host] = Host(
                name=dev.host, hostname=login.address, port=login.port,
                username=login.username, password=login.password,
                platform=NETMIKO[dev.platform], data={"platform": dev.platform},
                connection_options={
                    "napalm": ConnectionOptions(platform="ios", extras={
                        "timeout": self.timeout, "optional_args": {
                            "port": login.port, "conn_timeout": self.timeout,
                            "auth_timeout": self.timeout, "banner_timeout": self.timeout,
                            "fast_cli": True}}),
                    "netmiko": ConnectionOptions(extras={
                        "conn_timeout": self.timeout, "auth_timeout": self.timeout,
                        "banner_timeout": self.timeout, "fast_cli": False})})
        return Inventory(hosts=hosts, groups=Groups(), defaults=Defaults())


InventoryPluginRegister.register(PLUGIN_NAME, SurveyInventory)
