"""Service-to-service calls on AWS: each API publishes its URL, each caller reads it at
deploy time.

A function that declares ``calls=("todo",)`` learns the to-do API's stage URL as
``OVERCAST_RESOURCE_API_TODO`` (as locally) and nothing else of that service: no IAM
permission on its tables, functions or API (its calls go through the to-do gateway,
with its own caller's token; see :mod:`overcast.runtime.services`).

Every service with an API publishes its URL as the SSM parameter
``/overcast/<environment>/<service>/api-url`` (:func:`publish_api_url`); a calling
stack reads it when CloudFormation deploys it (``StringParameter.
value_for_string_parameter``: a template parameter of type
``AWS::SSM::Parameter::Value<String>``), never at synthesis, which stays offline.

Why not ``CfnOutput`` exports and ``Fn::ImportValue``: an import ties the two stacks
together in CloudFormation. The exporting stack may then neither change nor delete
the export while any stack imports it ("Export ... cannot be updated as it is in use"),
so replacing the to-do API would need every caller torn down first, and a service
could not be deployed, rolled back or deleted on its own. An SSM parameter keeps each
stack independently deployable (even from another project, as long as the called
service is deployed first in the same account, region and environment); the price is
that a caller sees a changed URL at its next deploy, not at once. Within one app,
:func:`order_deployments` makes a caller's stack deploy after the stacks it calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Stack
from aws_cdk import aws_ssm as ssm

from overcast import spec


def api_url_parameter(environment: str, service: str) -> str:
    """The SSM parameter holding ``service``'s API URL in ``environment``."""
    return f"/overcast/{environment}/{service}/api-url"


def publish_api_url(stack: Stack, service: spec.Service, environment: str, url: str) -> None:
    """Publish ``service``'s API URL (its default stage, no final ``/``) for its callers."""
    ssm.StringParameter(
        stack,
        "ApiUrlParameter",
        parameter_name=api_url_parameter(environment, service.name),
        string_value=url,
        description=f"The {service.name} API's stage URL, for the services that call it",
    )


def called_api_urls(stack: Stack, service: spec.Service, environment: str) -> dict[str, str]:
    """Each service ``service``'s functions call -> its API URL, read at deploy time."""
    called = sorted({name for function in service.all_functions for name in function.calls})
    return {
        name: ssm.StringParameter.value_for_string_parameter(
            stack, api_url_parameter(environment, name)
        )
        for name in called
    }


def order_deployments(services: Sequence[spec.Service], stacks: Mapping[str, Stack]) -> None:
    """Within one app (``stacks`` by service name), deploy the stacks a service calls
    before its own: their URLs must be published first. An order only, no export."""
    served = {service.name: service for service in services}
    for service in services:
        for called in sorted({name for f in service.all_functions for name in f.calls}):
            if called not in served:
                continue  # deployed on its own: its parameter must exist already
            if served[called].api is None:
                raise spec.DeclarationError(
                    f"Service {service.name!r} calls service {called!r}, which declares no "
                    "api=: there is nothing to call."
                )
            stacks[service.name].add_dependency(stacks[called])
