"""STS for the local cloud: the query protocol's web identity federation and caller identity."""
