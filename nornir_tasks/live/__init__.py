"""Live operations on devices (or their simulators): backup, diff, deploy, rollback."""

#: threads logging in to devices at once; 300 simulated devices finish a drift check in
#: well under 30 s with it (docs/benchmarks.md)
DEFAULT_WORKERS = 50
