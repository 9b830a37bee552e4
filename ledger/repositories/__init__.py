"""Queries, one module per aggregate. Services and views ask these; they hold no rules."""
