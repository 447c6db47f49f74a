"""Overcast's own applications, each a package with a ``service.py`` declaration."""
