"""Playbook versions: what changed between two, and moving running engagements from one to another."""
