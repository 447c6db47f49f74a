"""The variables that name a function's resources, as the deployer passes them on AWS.

Each resource a function declares it uses (tables, user pools, identity pools,
buckets, distributions, queues, topics) becomes one ``OVERCAST_RESOURCE_<KIND>_<NAME>``
variable holding the resource's physical name or id (see
:func:`overcast.runtime.config.resource_variable`).

A function that declares ``calls=("todo",)`` gets ``OVERCAST_RESOURCE_API_TODO``, the
to-do API's stage URL, and nothing else of that service: it reaches it through the
to-do gateway, with its caller's token (``overcast.runtime.services``). The local
cloud refuses at start a call to a service it does not serve (:func:`check_calls`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
    from overcast.local.remote_tables import table_name

    names: dict[str, str] = {}
    for table in function.tables:
        names[resource_variable("TABLE", table.name)] = table_name(service_name, table)
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


def called_apis(function: spec.Function, api_urls: Mapping[str, str]) -> dict[str, str]:
    """The stage URL of each service ``function`` declares it calls, as its variables.

    Only the declared calls: on AWS the deployer passes exactly these.
    """
    return {resource_variable("API", called): api_urls[called] for called in function.calls}


def check_calls(services: Iterable[spec.Service]) -> None:
    """Refuse a function's call to a service that is not served, or serves no API."""
    served = {service.name: service for service in services}
    for service in served.values():
        for function in service.all_functions:
            for called in function.calls:
                _check_call(service, function, served.get(called), called, sorted(served))


def _check_call(
    service: spec.Service,
    function: spec.Function,
    called: spec.Service | None,
    name: str,
    served: list[str],
) -> None:
    caller = f"Service {service.name!r}: function {function.name!r} calls service {name!r}"
    if called is None:
        raise spec.DeclarationError(
            f"{caller}, which this local cloud does not serve (it serves {', '.join(served)}). "
            "Add the service's module to `services` in the project configuration, or remove "
            f"{name!r} from the function's calls=."
        )
    if called.api is None:
        raise spec.DeclarationError(
            f"{caller}, which declares no api=: there is nothing to call. Remove {name!r} "
            "from the function's calls=."
        )
