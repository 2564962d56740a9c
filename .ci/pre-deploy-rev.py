"""Print the backups commit the pipeline's pre-deploy backup recorded (its head)."""

import json
import sys
from pathlib import Path

try:
    report = json.loads(Path(sys.argv[1]).read_text())
    rev = report["backup_head"]
except (OSError, ValueError, IndexError, KeyError) as exc:
    sys.exit(f"pre-deploy-rev: no pre-deploy backup report: {exc}")
if not rev:
    sys.exit("pre-deploy-rev: the pre-deploy backup recorded no commit")
print(rev)
