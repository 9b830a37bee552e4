"""Monitoring's queries. Every monitor query is set-based: one statement over all plans,
cards or accounts, never a query per card."""
