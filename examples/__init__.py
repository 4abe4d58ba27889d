"""Worked examples for docs/adapters.md (not shipped in the wheel)."""
