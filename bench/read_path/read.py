"""The to-do API with read_cache=True, stage_cache=False (see ``bench.read_path``)."""

from bench.read_path import handler_for, variant

service = variant("bench-read", read_cache=True, stage_cache=False)
handler = handler_for(service)
