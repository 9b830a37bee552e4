"""Officer pages. For now a start page listing people and a minimal person record; the
flag queue, actions and reports come with the monitoring services."""
