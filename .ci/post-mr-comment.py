"""Post a Markdown file as a merge-request comment, when the pipeline may.

Needs FELLESNETT_API_TOKEN (a masked CI variable: project access token, scope `api`) and a
merge-request pipeline; otherwise says why not and leaves the report as an artefact.
"""

import json
import os
import sys
import urllib.request
from pathlib import Path

token, iid = os.environ.get("FELLESNETT_API_TOKEN"), os.environ.get("CI_MERGE_REQUEST_IID")
if not token or not iid:
    print("post-mr-comment: no token or not a merge-request pipeline; report kept as artefact")
    sys.exit(0)
body = Path(sys.argv[1]).read_text()[:1_000_000]
url = (f"{os.environ['CI_API_V4_URL']}/projects/{os.environ['CI_PROJECT_ID']}"
       f"/merge_requests/{iid}/notes")
request = urllib.request.Request(url, data=json.dumps({"body": body}).encode(), method="POST",
                                 headers={"PRIVATE-TOKEN": token,
                                          "Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - GitLab API URL
    print(f"post-mr-comment: posted ({reply.status})")
