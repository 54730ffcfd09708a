"""Draining an outbox a batch at a time: the outbox relay's events (eduplatform.relay) and the
identity domain's emails (identity.mailer). It imports nothing, so identity.mailer stays light.
"""

from collections.abc import Callable


def drain(batch: Callable[[], tuple[int, int]], batch_size: int, max_batches: int) -> tuple[int, int]:
    """Run ``batch()`` (up to ``batch_size`` pending items: how many went out, how many failed)
    at most ``max_batches`` times, stopping after a batch that failed some (the service refusing
    them waits for the next pass) or that did fewer than ``batch_size``; the totals (done, failed).
    """
    done = failed = 0
    for _ in range(max_batches):
        batch_done, batch_failed = batch()
        done += batch_done
        failed += batch_failed
        if batch_failed or batch_done < batch_size:
            break
    return done, failed
