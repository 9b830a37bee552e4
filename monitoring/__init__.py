"""Monitors, flags, triage, officer actions and scheduler jobs. Nothing here imports Flask."""
