"""One Powertools event-handler invocation at a time per process.

Powertools keeps the current event and context in *class* attributes
(``BaseRouter.current_event``), shared by every resolver in the process. On Lambda an
execution environment receives one event at a time, so that is safe; the local cloud
runs many functions on threads of one process, so every Powertools resolver there
must take turns — not only two invocations of one function. On Lambda the lock is
never contended and costs a few tens of nanoseconds.
"""

from __future__ import annotations

import threading

powertools_turn = threading.Lock()
