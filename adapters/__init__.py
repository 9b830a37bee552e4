"""Card-provider adapters: provider formats to canonical events, and outbound card commands.

Nothing in this package imports Flask.
"""
