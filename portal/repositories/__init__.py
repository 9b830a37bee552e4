"""Read queries for the portal's pages; the ledger's own queries are in ledger/repositories."""
