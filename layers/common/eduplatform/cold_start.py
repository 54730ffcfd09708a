"""The garbage collector during an API function's cold start: held back until its first answer.

A domain function's start imports its libraries and builds their classes, models and tables, some
100,000 objects that live as long as the instance. Python's cyclic collector runs every 700
allocations and, while the heap keeps growing, traces all of it again and again, finding nothing
to free: ~5 % of a first answer. The collector is off from the import of this module (the first
thing ``eduplatform.dispatch``, a domain function's entry point, imports) until the instance's
first answer; what exists then is frozen (``gc.freeze``: never traced again, it lives as long as
the instance) and collection resumes for what the requests create.
"""

import gc

gc.disable()


def resume_collection() -> None:
    """Freeze what the start built and turn the collector back on; nothing once it is on."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
