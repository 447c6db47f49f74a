"""CloudFront's control API, locally: invalidations and a read-only view of distributions.

See ``app.py`` for the REST-XML endpoint, ``operations.py`` for what each call does and
``directory.py`` for how the running edges are found.
"""
