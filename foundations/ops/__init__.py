"""Services and processes: start, check and stop what the lessons talk to (docs/architecture.md, "Services")."""
