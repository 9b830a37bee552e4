"""The adapters' queries, one module per aggregate. They read and write rows; no rules."""
