"""Frozen old objects: the emulator's long-lived objects are left out of its full garbage collections.

On AWS the API layer is not a Python process whose pauses every request waits for. The emulator's
full collections of its ~170,000 long-lived objects stalled every request for 100-140 ms every ~20 s
under the load mix; ``frozen_old_objects`` freezes them once the deploy is done.
"""

import threading
import time

FREEZE_FIRST_AFTER_SECONDS = 60.0
FREEZE_EVERY_SECONDS = 600.0


def frozen_old_objects(
    first_after: float = FREEZE_FIRST_AFTER_SECONDS, every: float = FREEZE_EVERY_SECONDS
) -> threading.Thread:
    """Keep the objects the emulator holds for good out of its full garbage collections.

    Every ~20 s under the load mix CPython ran a full collection of the emulator's ~170,000 objects
    (its modules, the deployed stack, the templates it transformed), 100-140 ms with the interpreter
    lock held: every request in flight stalled, which was the load runs' p99. A minute after start
    (the deploy is done by then) and every 10 minutes after, this collects once and freezes what
    is left (``gc.freeze``): later full collections scan only the objects created since. Collecting
    first means no garbage is frozen; an object frozen and dropped later is freed by its reference
    count as before.
    """
    import gc

    def collect_and_freeze() -> None:
        time.sleep(first_after)
        while True:
            gc.collect()
            gc.freeze()
            time.sleep(every)

    thread = threading.Thread(target=collect_and_freeze, daemon=True, name="freeze-old-objects")
    thread.start()
    return thread
