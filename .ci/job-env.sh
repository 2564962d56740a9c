# Sourced by every pipeline job (before_script): tools on PATH, backups checked out.
# FELLESNETT_VENV names a prepared virtual environment (a runner image, or the local proof);
# otherwise .venv is built once per lock-file change and kept in the pipeline cache.
VENV="${FELLESNETT_VENV:-$CI_PROJECT_DIR/.venv}"
if [ ! -x "$VENV/bin/fellesnett" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -c requirements.lock -e ".[dev]"
fi
export PATH="$VENV/bin:$PATH"
# the job's own checkout wins over wherever that environment was installed from
export PYTHONPATH="$CI_PROJECT_DIR${PYTHONPATH:+:$PYTHONPATH}"
sh .ci/backups-sync.sh pull
if [ -n "${FELLESNETT_SYNC_BACKUPS:-}" ]; then
  trap 'sh .ci/backups-sync.sh push' EXIT
fi
