"""Lambda's REST-JSON API (``/2015-03-31/functions``) on the local AWS endpoint."""
