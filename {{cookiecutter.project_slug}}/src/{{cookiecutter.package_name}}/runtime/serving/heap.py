"""The heap left by start-up, frozen, so that the garbage collector stops walking it.

Importing the SDK, pydantic and their schemas leaves a few hundred thousand objects that live
as long as the process. Every full collection walks all of them again, and under load those
come every few hundred requests: measured on a two-core machine, that was some 60-70 us per
request on average, as much as the whole disconnect guard (the template README's benchmark).
``gc.freeze()`` moves them out of the collector's sight once the app is built; everything made
later is collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Freeze what start-up made; call once per process, when the app is built."""
    gc.collect()  # what is garbage now would otherwise be kept for good
    gc.freeze()
