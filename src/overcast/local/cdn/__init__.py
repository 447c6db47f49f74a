"""The local CDN edge: CloudFront's caching rules in front of buckets, APIs and apps.

See ``model.py`` for the types every part shares, ``edge.py`` for how one request is
answered, and ``DESIGN.md`` ("CDN edge") for what is mirrored from CloudFront.
"""
