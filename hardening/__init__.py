"""Site-wide protections that belong to no one app: malformed input refused before any view runs,
the client's address read only from trusted proxies, and the health check."""
