"""Holder pages: a person's own cards, their companion pots, payments, plan and statements."""
