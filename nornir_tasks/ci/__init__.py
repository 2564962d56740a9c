"""Helpers the GitLab pipeline calls: shard split, canary choice."""
