"""Waiting for something asynchronous (events, queues) in end-to-end tests."""

import time


def poll(fetch, done, timeout: float, interval: float = 0.5):
    """Call ``fetch`` until ``done(value)`` or ``timeout`` seconds pass; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)
