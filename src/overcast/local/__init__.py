"""The local cloud: embedded backends wired from the declarations."""
