"""The web layer: holder pages, officer pages, the JSON API, and the ``dpledger`` CLI."""
