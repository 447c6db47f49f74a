"""SNS's API (query protocol) on the local AWS endpoint: a thin adapter from SNS's wire
format to the local messaging store's topics (:mod:`overcast.ports.topics`)."""
