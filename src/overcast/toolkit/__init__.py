"""Developer tooling around the declarations: OpenAPI documents and typed clients.

Tooling, not function code: it may use the local cloud's parts, and it is never
bundled into a Lambda function.
"""
