"""The to-do API with read_cache=False, stage_cache=True (see ``bench.read_path``)."""

from bench.read_path import handler_for, variant

service = variant("bench-stage", read_cache=False, stage_cache=True)
handler = handler_for(service)
