"""The variables that name a function's resources, as the deployer passes them on AWS.

Each resource a function declares it uses (tables, user pools, identity pools,
buckets, distributions, queues, topics) becomes one ``OVERCAST_RESOURCE_<KIND>_<NAME>``
variable holding the resource's physical name or id (see
:func:`overcast.runtime.config.resource_variable`).
"""

from __future__ import annotations

from overcast import spec
from overcast.local.aws_services import ServiceResources
from overcast.runtime.config import resource_variable


def function_resources(
    service_name: str, function: spec.Function, resources: ServiceResources
) -> dict[str, str]:
    """The physical names of what ``function`` declares it uses, as its variables.

    Only what it declares: on AWS the deployer passes exactly these, so a function
    that forgets a declaration fails here as it would there.
    """
    from overcast.local.cloudfront.ids import distribution_id

    names: dict[str, str] = {}
    for table in function.tables:
        names[resource_variable("TABLE", table.name)] = f"{service_name}-{table.name}"
    for pool in function.user_pools:
        names[resource_variable("USER_POOL", pool.name)] = resources.user_pools[pool.name].pool_id
    for identities in function.identity_pools:
        registered = resources.identity_pools[identities.name]
        names[resource_variable("IDENTITY_POOL", identities.name)] = registered.id
        user_pool = resources.user_pools[identities.user_pool.name]
        names[resource_variable("USER_POOL", identities.user_pool.name)] = user_pool.pool_id
    for bucket in function.buckets:
        names[resource_variable("BUCKET", bucket.name)] = resources.buckets[bucket.name]
    for distribution in function.distributions:
        names[resource_variable("DISTRIBUTION", distribution.name)] = distribution_id(
            service_name, distribution.name
        )
    for queue in function.queues:
        names[resource_variable("QUEUE", queue.name)] = spec.queue_name(service_name, queue)
    for topic in function.topics:
        names[resource_variable("TOPIC", topic.name)] = spec.topic_name(service_name, topic)
    return names
