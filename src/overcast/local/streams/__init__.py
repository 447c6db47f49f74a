"""Change streams, locally: DynamoDB Streams' records delivered as Lambda's event source
mapping delivers them (see :mod:`overcast.local.streams.dispatcher`)."""

from overcast.local.streams.dispatcher import StreamDispatcher
from overcast.local.streams.store import Failure, StreamStore
from overcast.local.streams.triggers import ServiceStreams

__all__ = ["Failure", "ServiceStreams", "StreamDispatcher", "StreamStore"]
