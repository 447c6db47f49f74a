"""The local S3-compatible endpoint: S3's path-style REST API over the local buckets.

The ASGI app is :class:`overcast.local.s3.app.S3Endpoint`; it is not imported here, so
that importing the errors or the authenticator stays light.
"""
