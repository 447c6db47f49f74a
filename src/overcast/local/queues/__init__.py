"""Queue triggers, locally: SQS messages delivered as Lambda's event source mapping
delivers them (see :mod:`overcast.local.queues.dispatcher`)."""

from overcast.local.queues.dispatcher import QueueDispatcher
from overcast.local.queues.events import QueueSource, sqs_event, sqs_record
from overcast.local.queues.triggers import ServiceQueues

__all__ = ["QueueDispatcher", "QueueSource", "ServiceQueues", "sqs_event", "sqs_record"]
