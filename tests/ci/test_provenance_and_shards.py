"""CI helpers: who approved a change (GitLab API), and the stable shard split."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from nornir_tasks.ci.shards import shard_of, split
from nornir_tasks.cli import main
from nornir_tasks.intent.loader import Intent
from nornir_tasks.live.provenance import trailers


class _Api(BaseHTTPRequestHandler):
    """Stands in for GitLab's REST API (no GitLab can run here): one approvals endpoint."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        _Api.seen.append((self.path, self.headers.get("PRIVATE-TOKEN")))
        if self.path != "/api/v4/projects/7/merge_requests/17/approvals":
            self.send_error(404)
            return
        body = json.dumps({"approved_by": [{"user": {"username": "ola"}},
                                           {"user": {"username": "kari"}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/v4"
    finally:
        server.shutdown()
        server.server_close()


def test_a_default_branch_deploy_names_the_merge_request_and_its_approvers(api: str) -> None:
    env = {"CI_COMMIT_MESSAGE": "Merge branch 'ny-skole' into 'main'\n\nSee merge request "
                                "net/fellesnett!17", "CI_API_V4_URL": api, "CI_PROJECT_ID": "7",
           "FELLESNETT_API_TOKEN": "glpat-test", "CI_PIPELINE_URL": "https://gitlab/p/9",
           "GITLAB_USER_LOGIN": "kari", "CI_COMMIT_SHA": "abc123"}
    t = trailers(Path("/nonexistent"), None, env)
    assert t["Change-Ref"] == "net/fellesnett!17"
    assert t["Approved-By"] == "kari, ola"
    assert (t["Pipeline"], t["Deployed-By"], t["Intent-Commit"]) == (
        "https://gitlab/p/9", "kari", "abc123")
    assert _Api.seen[-1] == ("/api/v4/projects/7/merge_requests/17/approvals", "glpat-test")


def test_without_a_token_the_approvers_are_not_invented() -> None:
    t = trailers(Path("/nonexistent"), "CHG-1", {})
    assert (t["Change-Ref"], t["Approved-By"]) == ("CHG-1", "not recorded")


def test_shards_cover_every_site_once_and_do_not_move_when_sites_are_added(intent: Intent
                                                                            ) -> None:
    shards = split(intent, 4)
    sites = [s for sh in shards for s in sh.sites]
    with_config = {intent.device_site[h] for h in intent.devices
                   if intent.devices[h].role.value != "ap"}
    assert sorted(sites) == sorted(with_config)
    assert sum(sh.devices for sh in shards) == 220
    assert all(sh.devices > 0 for sh in shards)
    # stability: a site's shard depends on nothing but its own name
    assert all(shard_of(s, 4) == sh.index for sh in shards for s in sh.sites)
    assert shard_of("ny_skole", 4) == shard_of("ny_skole", 4)


def test_ci_commands(capsys: pytest.CaptureFixture[str], intent: Intent) -> None:
    assert main(["ci", "shard", "--index", "0", "--total", "4"]) == 0
    limit = capsys.readouterr().out.strip()
    assert limit == split(intent, 4)[0].limit and limit.startswith("site_")
    assert main(["ci", "shard", "--index", "0", "--limit", "site_radhuset"]) == 0
    assert capsys.readouterr().out.strip() in ("", "site_radhuset")
    assert main(["ci", "canary", "--limit", "site_radhuset"]) == 0
    assert capsys.readouterr().out.strip() == "radhuset-acc01"
    assert main(["ci", "shard", "--index", "9", "--total", "4"]) == 2


def test_a_county_size_estate_spreads_over_the_shards(tmp_path: Path) -> None:
    from nornir_tasks.estate import main as make_estate
    from nornir_tasks.intent.loader import load_intent

    estate = tmp_path / "county"
    assert make_estate([str(estate), "--devices", "2000"]) == 0
    county = load_intent(estate)
    shards = split(county, 6)
    sizes = [s.devices for s in shards]
    assert sum(sizes) > 900 and len({s for sh in shards for s in sh.sites}) > 350
    mean = sum(sizes) / len(sizes)  # a hash of the name spreads sites evenly enough
    assert all(0.5 * mean < n < 1.5 * mean for n in sizes), sizes
    # removing a site (or adding one) moves no other site to another shard
    gone = shards[0].sites[0]
    without = split(county, 6, f"!site_{gone}")
    assert without[0].sites == shards[0].sites[1:]
    assert [s.sites for s in without[1:]] == [s.sites for s in shards[1:]]
