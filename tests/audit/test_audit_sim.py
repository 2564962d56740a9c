"""``fellesnett audit`` against 24 simulated devices drifted on purpose.

The simulators start converged (each device runs its intended config, secrets as device
hashes), then the test plants drift over independent netmiko sessions: an extra local
user, a removed ACL entry, an added VLAN, a changed SSID VLAN on the controller, a device
on the wrong software, and one intent commit that has not been deployed. Each must show up
under the right feature and device, with the commit that brought it; a deploy carrying a
change reference must show up in the history with its approvers. The reports are checked
for determinism, in headless Chromium, and by a secrets scanner.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from netmiko import ConnectHandler

from nornir_tasks.build import config_hosts, render_host
from nornir_tasks.cli import main
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.sim.faults import set_fault
from nornir_tasks.sim.manager import start, stop
from nornir_tasks.sim.seed import clean_config
from nornir_tasks.sim.shell import SimDevice

ROOT = Path(__file__).resolve().parents[2]
LIMIT = "site_alta_ungdomsskole,site_radhuset,aktivitetssenteret-sw01"
INTRUDER_PASSWORD = "Intruder-Plaintext-77"
#: where CI collects the screenshot (and the reports) from
ARTEFACTS = ROOT / "test-artefacts" / "audit"  # not in build/: a build refuses foreign files

USER_HOST, ACL_HOST, VLAN_HOST, WLC = ("alta-ungdomsskole-acc01", "radhuset-core01",
                                       "alta-ungdomsskole-dist01", "radhuset-wlc01")
INTENT_HOST, SOFTWARE_HOST = "alta-ungdomsskole-acc02", "aktivitetssenteret-sw01"
DRIFTED = {USER_HOST, ACL_HOST, VLAN_HOST, WLC, INTENT_HOST, SOFTWARE_HOST}


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, **(env or {})}).stdout.strip()


def author(name: str, date: str | None = None) -> dict[str, str]:
    email = name.lower().replace(" ", ".") + "@alta.kommune.no"
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    return env


@dataclass
class Scenario:
    root: Path
    sim_dir: Path
    backups: Path
    inventory: Path
    reports: Path
    first_intent: str = ""
    intent_change: str = ""
    baseline: dict[str, Any] = field(default_factory=dict)
    drifted: dict[str, Any] = field(default_factory=dict)
    after_fix: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)

    def audit(self, name: str, *args: str) -> dict[str, Any]:
        out = self.reports / name
        code = main(["audit", "--sim", "--inventory", str(self.inventory), "--limit", LIMIT,
                     "--backups", str(self.backups), "--json", f"{out}.json",
                     "--markdown", f"{out}.md", "--html", f"{out}.html", *args])
        self.codes[name] = code
        return json.loads(Path(f"{out}.json").read_text())  # type: ignore[no-any-return]

    def send(self, host: str, lines: list[str], save: bool = False) -> None:
        st = json.loads((self.sim_dir / "state.json").read_text())
        with ConnectHandler(device_type="cisco_xe", host="127.0.0.1",
                            port=st["hosts"][host]["port"], username=st["username"],
                            password=st["password"], fast_cli=True) as conn:
            conn.send_config_set(lines)
            if save:
                conn.save_config()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, sim_secrets: dict[str, str]
             ) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("audit")
    s = Scenario(root, root / "sim", root / "backups", root / "project" / "inventory",
                 root / "reports")
    s.reports.mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("FELLESNETT_SIM_DIR", str(s.sim_dir))
    mp.setenv("FELLESNETT_LOCK_DIR", str(root / "locks"))
    for k, v in sim_secrets.items():
        mp.setenv(k, v)
    # the project: the reference inventory and templates in a git history of their own
    project = root / "project"
    shutil.copytree(ROOT / "inventory", project / "inventory")
    shutil.copytree(ROOT / "templates", project / "templates")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "intent: the reference estate",
        env=author("Kari Nordmann", "2026-11-01T09:00:00+00:00"))
    s.first_intent = git(project, "rev-parse", "HEAD")

    intent = load_intent(s.inventory)
    devices = {}
    for host in config_hosts(intent, LIMIT):
        dev = intent.devices[host]
        devices[host] = SimDevice(
            hostname=host, config=clean_config(host, render_host(intent, host)),
            flavour="c9800" if dev.role.value == "wlc" else "ios-xe", model=dev.model,
            serial=f"FOC{abs(hash(host)) % 10**8:08d}",
            software=intent.device_models[dev.model].software or "")
    start(devices, s.sim_dir)
    try:
        s.baseline = s.audit("baseline")
        # drift on the devices, by hand, as an operator could
        s.send(USER_HOST, [f"username intruder privilege 15 secret 0 {INTRUDER_PASSWORD}"])
        s.send(ACL_HOST, ["ip access-list extended ZONE-GUEST-IN", "no 20"])
        s.send(VLAN_HOST, ["vlan 3333", "name ROGUE"], save=True)
        s.send(WLC, ["wireless profile policy PP-GJEST", "vlan 120"])
        set_fault(s.sim_dir, SOFTWARE_HOST, software="17.6.1")
        # an intent change committed but not deployed
        hv = s.inventory / "host_vars" / f"{INTENT_HOST}.yml"
        hv.write_text(hv.read_text().replace("  profile: printer\n",
                                             "  profile: printer\n  description: Skriver 2. etg\n"))
        git(project, "commit", "-q", "-am", "intent: name the printer port on acc02",
            env=author("Ola Nordmann"))
        s.intent_change = git(project, "rev-parse", "HEAD")
        s.drifted = s.audit("drifted", "--since", s.baseline["sources"]["read_commit"])
        # the rogue VLAN is removed by a reviewed, approved deploy
        mp.setenv("FELLESNETT_APPROVERS", "kari.nordmann, per.hansen")
        assert main(["deploy", "--sim", "--apply", "--inventory", str(s.inventory),
                     "--limit", VLAN_HOST, "--backups", str(s.backups),
                     "--change-ref", "net/fellesnett!42", "--json"]) == 0
        s.after_fix = s.audit("after_fix", "--since", s.first_intent)
        yield s
    finally:
        stop(s.sim_dir)
        mp.undo()


def _feature(report: dict[str, Any], host: str, feature: str) -> dict[str, Any]:
    dev = next(d for d in report["devices"] if d["host"] == host)
    return dev["features"][feature]  # type: ignore[no-any-return]


def _device(report: dict[str, Any], host: str) -> dict[str, Any]:
    return next(d for d in report["devices"] if d["host"] == host)


def test_a_converged_estate_is_compliant_and_exits_0(scenario: Scenario) -> None:
    b = scenario.baseline
    assert scenario.codes["baseline"] == 0, b["summary"]
    assert b["summary"]["devices"] == 24 and b["summary"]["compliant"] == 24
    assert b["zone_proof"]["verdict"] == "proven"
    assert all(d["software"]["status"] == "ok" and d["unsaved"]["clean"] for d in b["devices"])
    assert "other" not in b["fleet"]


def test_each_planted_drift_is_found_under_its_feature_and_device(scenario: Scenario) -> None:
    r = scenario.drifted
    assert scenario.codes["drifted"] == 1
    read = r["sources"]["read_commit"]

    user = _feature(r, USER_HOST, "aaa")
    assert [e["path"] for e in user["extra"]] == [
        ["username intruder privilege 15 secret <<secret>>"]]
    assert user["extra"][0]["seen_in"]["commit"] == read

    acl = _feature(r, ACL_HOST, "acls")
    assert acl["missing"] and all(e["path"][0] == "ip access-list extended ZONE-GUEST-IN"
                                  and e["path"][1].startswith("20 ") for e in acl["missing"])
    assert not acl["extra"]
    assert all(e["seen_in"]["commit"] == read for e in acl["missing"])

    vlan = _feature(r, VLAN_HOST, "vlans")
    assert [e["path"] for e in vlan["extra"]] == [["vlan 3333"], ["vlan 3333", "name ROGUE"]]

    wlan = _feature(r, WLC, "wlan")
    assert [e["path"] for e in wlan["missing"]] == [["wireless profile policy PP-GJEST",
                                                      "vlan 150"]]
    assert [e["path"] for e in wlan["extra"]] == [["wireless profile policy PP-GJEST",
                                                    "vlan 120"]]

    ports = _feature(r, INTENT_HOST, "interfaces")
    assert ["interface GigabitEthernet1/0/39", "description Skriver 2. etg"] in [
        e["path"] for e in ports["missing"]]

    # nothing else drifted, anywhere
    expected = {(USER_HOST, "aaa"), (ACL_HOST, "acls"), (VLAN_HOST, "vlans"), (WLC, "wlan"),
                (INTENT_HOST, "interfaces")}
    found = {(d["host"], f) for d in r["devices"] for f, x in d["features"].items()
             if x["status"] == "drift"}
    assert found == expected
    assert {d["host"] for d in r["devices"] if not d["compliant"]} == DRIFTED
    assert r["fleet"]["aaa"]["drift"] == 1 and r["fleet"]["wlan"]["drift"] == 1


def test_unsaved_changes_and_software_are_flagged(scenario: Scenario) -> None:
    r = scenario.drifted
    unsaved = {d["host"] for d in r["devices"] if not d["unsaved"]["clean"]}
    assert unsaved == {USER_HOST, ACL_HOST, WLC}  # the VLAN was saved with `write memory`
    assert ["vlan 120"] not in _device(r, WLC)["unsaved"]["lost_on_save"]
    wrong = {d["host"]: d["software"] for d in r["devices"]
             if d["software"]["status"] != "ok"}
    assert wrong == {SOFTWARE_HOST: {"expected": "17.12.4", "running": "17.06.01",
                                     "status": "mismatch"}}


def test_history_names_the_commits_and_the_approvers(scenario: Scenario) -> None:
    h = scenario.drifted["history"]
    assert [c["commit"] for c in h["intent_commits"]] == [scenario.intent_change]
    assert h["intent_commits"][0]["author"].startswith("Ola Nordmann")
    assert h["intent_commits"][0]["message"] == "intent: name the printer port on acc02"
    assert h["devices"][INTENT_HOST]["intent_commits"] == [scenario.intent_change]
    assert USER_HOST not in h["devices"] or not h["devices"][USER_HOST]["intent_commits"]
    change = h["devices"][USER_HOST]["backup_commits"][0]
    assert change["message"].startswith("audit read")
    assert "username intruder privilege 15 secret <<secret>>" in change["added"]

    a = scenario.after_fix
    assert scenario.codes["after_fix"] == 1
    assert _device(a, VLAN_HOST)["compliant"]
    fixes = [c for c in a["history"]["devices"][VLAN_HOST]["backup_commits"]
             if c["message"].startswith("post-change")]
    assert fixes and fixes[0]["trailers"]["Change-Ref"] == "net/fellesnett!42"
    assert fixes[0]["trailers"]["Approved-By"] == "kari.nordmann, per.hansen"
    assert "vlan 3333" in fixes[0]["removed"]
    intended = a["history"]["devices"][INTENT_HOST]["intended_changes"]
    assert " description Skriver 2. etg" in intended["added"]
    assert [c["commit"] for c in a["history"]["intent_commits"]] == [scenario.intent_change]


def test_markdown_report_shows_the_drift_as_a_diff(scenario: Scenario) -> None:
    md = (scenario.reports / "drifted.md").read_text()
    assert "**Verdict: findings** (exit 1)" in md
    assert "+ username intruder privilege 15 secret <<secret>>" in md
    assert "-  vlan 150" in md and "+  vlan 120" in md
    assert "Ola Nordmann" in md


def test_reports_are_deterministic(scenario: Scenario) -> None:
    outs = []
    for run in ("one", "two"):
        d = scenario.root / run
        assert main(["audit", "--offline", "--inventory", str(scenario.inventory), "--limit",
                     LIMIT, "--backups", str(scenario.backups), "--since", scenario.first_intent,
                     "--json", str(d / "a.json"), "--markdown", str(d / "a.md"),
                     "--html", str(d / "a.html")]) == 1
        outs.append({p.name: p.read_bytes() for p in d.iterdir()})
    assert outs[0] == outs[1]


def test_no_secret_in_backups_reports_or_handover(scenario: Scenario, built: Path) -> None:
    from nornir_tasks.audit.secret_scan import scan

    bundle = scenario.root / "handover"
    with tarfile.open(built / "handover.tar.gz") as tar:
        tar.extractall(bundle, filter="data")
    assert scan(scenario.backups, scenario.reports, bundle) == {}
    for text in [p.read_text() for p in scenario.reports.iterdir()]:
        assert INTRUDER_PASSWORD not in text and "Test-" not in text and "$9$" not in text

    # positive control: the scanner does find a leaked secret of each kind
    leak = scenario.root / "leak"
    leak.mkdir()
    (leak / "r1.cfg").write_text(
        f"username intruder privilege 15 secret 0 {INTRUDER_PASSWORD}\n"
        "enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM\n"
        " key 7 0822455D0A16\nsnmp-server community Xq9v3LrT RO\n"
        "enable secret <<secret>>\n key 7 <<secret:tacacs_key>>\n")
    found = scan(leak)
    assert sorted(f["line_number"] for f in found["r1.cfg"]) == [1, 2, 3, 4]


# ----------------------------------------------------------------------- Chromium


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-dev-shm-usage",
                  "--enable-logging=stderr", "--v=0"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return path


def _load(url: str, *extra: str) -> tuple[str, list[str]]:
    """The DOM after the page's scripts ran, and every console message it logged."""
    done = subprocess.run([_chromium(), *CHROMIUM_FLAGS, *extra, "--dump-dom", url],
                          capture_output=True, text=True, timeout=60, check=True)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def _count(dom: str, ident: str) -> int:
    import re

    m = re.search(rf'id="{ident}"[^>]*>(\d+)<', dom)
    assert m, ident
    return int(m[1])


def test_the_console_check_sees_a_broken_page(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>notAFunction();</script></body></html>")
    _, console = _load(page.as_uri())
    assert any("notAFunction" in line for line in console)


def test_html_report_in_headless_chromium(scenario: Scenario) -> None:
    page = scenario.reports / "drifted.html"
    report = scenario.drifted
    dom, console = _load(page.as_uri())
    assert console == [], console
    assert 'data-ready="1"' in dom  # the script ran to its end
    assert _count(dom, "shown-count") == _count(dom, "total-count") == 24
    assert _count(dom, "sum-compliant") == report["summary"]["compliant"] == 24 - len(DRIFTED)
    assert dom.count('class="c drift"') == 5

    dom, console = _load(page.as_uri() + "#status=findings&sort=drift%20lines&dir=desc")
    assert console == [] and _count(dom, "shown-count") == len(DRIFTED)
    dom, _ = _load(page.as_uri() + "#feature=wlan")
    assert _count(dom, "shown-count") == 1 and f'data-host="{WLC}"' in dom
    dom, _ = _load(page.as_uri() + "#feature=aaa")
    assert _count(dom, "shown-count") == 1

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "audit-report.png"
    subprocess.run([_chromium(), *CHROMIUM_FLAGS, "--window-size=1600,1200",
                    f"--screenshot={shot}", page.as_uri() + "#status=findings"],
                   capture_output=True, timeout=60, check=True)
    assert shot.stat().st_size > 10_000
    for suffix in ("html", "md", "json"):
        shutil.copy(scenario.reports / f"drifted.{suffix}", ARTEFACTS / f"audit.{suffix}")
