"""The double-entry ledger of card accounts and the domain records it serves.

Nothing in this package imports Flask, the portal, the adapters or monitoring.
"""
