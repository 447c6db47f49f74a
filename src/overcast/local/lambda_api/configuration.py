"""``FunctionConfiguration``, as ``ListFunctions`` and ``GetFunction`` show it.

The fields Lambda fills for a zip-packaged function that the local cloud knows:
name, ARN, runtime (``python3.12``, the runtime the deployer builds bundles for),
execution role (``<service>-<function>-function``, the role the local cloud issues the
function's session for), handler, timeout, memory, ``$LATEST``, ``PackageType: Zip``
and ``State: Active`` (the local cloud started every function before it answers).
``Environment.Variables`` holds the function's resource variables (what the deployer
passes on AWS); the session credentials the local cloud adds are never shown (on AWS
they are not variables of the function's configuration either). Lambda's
``handler`` is ``module.function``; a declaration's ``module:function`` is shown so.

``GetFunction``'s ``Code`` (a presigned URL of the deployment package) has no local
equivalent: the code is the project's source tree. It is ``{"RepositoryType":
"Local"}``, no ``Location``.
"""

from __future__ import annotations

from typing import Any

from overcast.local.lambda_api.directory import LATEST, FunctionDirectory, LocalFunction

RUNTIME = "python3.12"


def configuration(directory: FunctionDirectory, local: LocalFunction) -> dict[str, Any]:
    """The ``FunctionConfiguration`` of ``local``."""
    function = local.function
    result: dict[str, Any] = {
        "FunctionName": local.name,
        "FunctionArn": directory.arn(local.name),
        "Runtime": RUNTIME,
        "Role": f"arn:aws:iam::{directory.account_id}:role/{local.name}-function",
        "Handler": function.handler.replace(":", "."),
        "Timeout": function.timeout_seconds,
        "MemorySize": function.memory_mb,
        "Version": LATEST,
        "PackageType": "Zip",
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "Architectures": ["x86_64"],
    }
    if local.variables:
        result["Environment"] = {"Variables": dict(local.variables)}
    return result


def function_code() -> dict[str, str]:
    """``GetFunction``'s ``Code``: no package to download locally."""
    return {"RepositoryType": "Local"}
