"""The second municipality (tests/fixtures/nordby) in the packet lab: a school on two
buildings and a wireless-only kindergarten without the voice zone, with real packets;
the zone added later with `zone add` (cctv) is at the school and not at the kindergarten."""

from __future__ import annotations

from pathlib import Path

from nornir_tasks.intent.loader import load_intent
from nornir_tasks.lab.runner import run_lab

NORDBY = Path(__file__).resolve().parents[1] / "fixtures" / "nordby"


def test_nordby_runs_in_the_lab(lab_machine: None) -> None:
    intent = load_intent(NORDBY)
    report = run_lab(intent, ["nordby_skole", "solsikken_barnehage"], adversarial_sites=1)
    assert report.exit_code == 0
    assert not report.mismatches and not report.failed_required
    flows = {(r.probe.flow, r.probe.site) for r in report.required if r.ok}
    for site in ("nordby_skole", "solsikken_barnehage"):
        assert {("dhcp_relay", site), ("dns", site), ("capwap", site)} <= flows
    # the kindergarten's trunk carries no voice VLAN: it has no voice zone
    trunks = {t.site: t for t in report.trunks}
    assert 140 in trunks["nordby_skole"].tags_seen
    assert 140 not in trunks["solsikken_barnehage"].vlans + trunks["solsikken_barnehage"].tags_seen
    # the zone `zone add` rolled out: carried and probed at the school, absent elsewhere
    assert 170 in trunks["nordby_skole"].tags_seen
    assert 170 not in trunks["solsikken_barnehage"].vlans
    # no rule names it yet: no other zone's host reaches it, and it reaches none
    cctv = [r for r in report.results if "cctv" in (r.probe.source.zone,
                                                    r.probe.destination.zone)
            and r.probe.source.kind == r.probe.destination.kind == "zone"]
    assert cctv and not any(r.observed for r in cctv)
    assert report.adversarial is not None and not report.adversarial.disagreements
