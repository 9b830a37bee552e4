"""Signing in and out, password resets, roles, and the checks that guard every page."""
