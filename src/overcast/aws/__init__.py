"""The AWS deployer: CDK stacks from the same declarations the local cloud runs.

Only ``overcast synth``, ``overcast deploy``, ``overcast diff`` and their tests import
this package; the local cloud and the Lambda bundle never do.

Importing AWS CDK (``aws_cdk``) starts a Node.js process. It must be the project's
own Node.js, so call :func:`overcast.aws.node.use_project_node` before importing any
module here that builds constructs (``app``, ``stack``, ``api``, ``functions``,
``tables``, ``buckets``, ``identity``, ``nag``). ``node``, ``bundling``, ``imports``,
``wheels`` and ``cdk_cli`` do not import AWS CDK.
"""
