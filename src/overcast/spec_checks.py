"""Checks across a service's declarations: every resource a declaration uses is one the
service declares, and AWS's limits that span resources hold.

A :class:`~overcast.spec.Service` runs :func:`check_references` when built. The rules
mirrored from AWS: a bucket name (``<service>-<bucket>``) has at most 63 characters
(S3), a queue name at most 80 (SQS); two notification configurations of one bucket may
not match one key (S3); a topic delivers to a queue once.

Part of :mod:`overcast.spec`; this module only keeps ``spec.py`` small. Standard
library only.
"""

from __future__ import annotations

from overcast.spec import (
    ApiOrigin,
    BucketOrigin,
    DeclarationError,
    ObjectCreatedNotification,
    ObjectCreatedTrigger,
    Service,
    Topic,
)


def check_references(service: Service) -> None:
    """Raise :class:`DeclarationError` unless every resource ``service`` uses is declared in
    it and the limits that span its resources hold."""
    for function in service.all_functions:
        for table in function.tables:
            if table not in service.tables:
                raise DeclarationError(
                    f"Service {service.name!r}: function {function.name!r} uses table "
                    f"{table.name!r}, which the service does not declare in tables=."
                )
        for pool in function.user_pools:
            if pool not in service.user_pools:
                raise DeclarationError(
                    f"Service {service.name!r}: function {function.name!r} uses user pool "
                    f"{pool.name!r}, which the service does not declare in user_pools=."
                )
    for function in service.all_functions:
        if service.name in function.calls:
            raise DeclarationError(
                f"Service {service.name!r}: function {function.name!r} calls its own service; "
                f"remove {service.name!r} from calls= (every function of a service with an API "
                "already knows its URL)."
            )
        _check_declared(service, f"function {function.name!r}", "buckets", function.buckets)
        _check_declared(
            service, f"function {function.name!r}", "identity_pools", function.identity_pools
        )
    for stream in service.stream_triggers:
        _check_declared(service, "a stream trigger", "tables", (stream.table,))
    _check_object_notifications(service)
    for identities in service.identity_pools:
        _check_declared(
            service, f"identity pool {identities.name!r}", "user_pools", (identities.user_pool,)
        )
    for bucket in service.buckets:
        if bucket.user_folders is not None:
            _check_declared(
                service, f"bucket {bucket.name!r}", "identity_pools", (bucket.user_folders,)
            )
        if len(service.bucket_name(bucket)) > 63:
            raise DeclarationError(
                f"Service {service.name!r}: bucket name {service.bucket_name(bucket)!r} is "
                "longer than S3's 63 characters; shorten the service or bucket name."
            )
    _check_distributions(service)
    _check_messaging(service)
    for route in service.api.routes if service.api else ():
        if route.authorizer and route.authorizer.user_pool not in service.user_pools:
            raise DeclarationError(
                f"Service {service.name!r}: route {route.key!r} is authorized by user pool "
                f"{route.authorizer.user_pool.name!r}, which the service does not declare."
            )


def _check_object_notifications(service: Service) -> None:
    """Triggers and notifications name declared resources, and S3's overlap rule holds
    across all of one bucket's (a function, a topic or a queue alike)."""
    configurations: tuple[ObjectCreatedTrigger | ObjectCreatedNotification, ...] = (
        *service.object_triggers,
        *service.object_notifications,
    )
    for notification in service.object_notifications:
        target = notification.target
        kind = "topics" if isinstance(target, Topic) else "queues"
        _check_declared(service, "an object notification", kind, (target,))
    for position, trigger in enumerate(configurations):
        _check_declared(service, "an object trigger or notification", "buckets", (trigger.bucket,))
        for other in configurations[position + 1 :]:
            if trigger.overlaps(other):
                raise DeclarationError(
                    f"Service {service.name!r}: two object triggers or notifications of bucket "
                    f"{trigger.bucket.name!r} overlap (prefixes {trigger.prefix!r} and "
                    f"{other.prefix!r}, suffixes {trigger.suffix!r} and {other.suffix!r}); "
                    "S3 refuses configurations that can match one key."
                )


def _check_distributions(service: Service) -> None:
    for function in service.all_functions:
        _check_declared(
            service, f"function {function.name!r}", "distributions", function.distributions
        )
    for distribution in service.distributions:
        for origin in distribution.origins:
            if isinstance(origin, BucketOrigin):
                _check_declared(
                    service, f"distribution {distribution.name!r}", "buckets", (origin.bucket,)
                )
            elif isinstance(origin, ApiOrigin) and service.api is None:
                raise DeclarationError(
                    f"Service {service.name!r}: distribution {distribution.name!r} has the "
                    "API as an origin, but the service declares no api=."
                )


def _check_declared(service: Service, user: str, field_name: str, used: tuple[object, ...]) -> None:
    declared: tuple[object, ...] = getattr(service, field_name)
    for resource in used:
        if resource not in declared:
            name = getattr(resource, "name", "?")
            raise DeclarationError(
                f"Service {service.name!r}: {user} uses {name!r}, which the service does "
                f"not declare in {field_name}=."
            )


def _check_messaging(service: Service) -> None:
    for function in service.all_functions:
        _check_declared(service, f"function {function.name!r}", "topics", function.topics)
        _check_declared(service, f"function {function.name!r}", "queues", function.queues)
    for queue in service.queues:
        if queue.dead_letter is not None:
            _check_declared(service, f"queue {queue.name!r}", "queues", (queue.dead_letter.queue,))
        # SQS: a queue name has up to 80 characters, ".fifo" included.
        if len(service.queue_name(queue)) > 80:
            raise DeclarationError(
                f"Service {service.name!r}: queue name {service.queue_name(queue)!r} is longer "
                "than SQS's 80 characters; shorten the service or queue name."
            )
    for subscription in service.subscriptions:
        _check_declared(service, "a subscription", "topics", (subscription.topic,))
        _check_declared(service, "a subscription", "queues", (subscription.queue,))
    pairs = [(sub.topic.name, sub.queue.name) for sub in service.subscriptions]
    if len(pairs) != len(set(pairs)):
        raise DeclarationError(
            f"Service {service.name!r} subscribes a queue to the same topic twice."
        )
    for trigger in service.queue_triggers:
        _check_declared(service, "a queue trigger", "queues", (trigger.queue,))
