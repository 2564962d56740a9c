"""Migrating a legacy switch in place to its intended config, in reviewable phases."""
