"""SQS's API (AWS JSON 1.0 protocol) on the local AWS endpoint: a thin adapter from SQS's
wire format to the local messaging store
(:class:`~overcast.ports.queues.messaging.StoredMessaging`)."""
