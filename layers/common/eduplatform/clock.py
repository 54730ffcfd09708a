"""The one clock the identity rules read (token expiry, lockout windows, rate-limit windows).

``CLOCK_OFFSET_SECONDS`` moves it forward for tests only (a day of refreshes, a lockout window
passing) without waiting; the template never sets it, so on AWS it is the wall clock.
"""

import time
from datetime import UTC, datetime

from eduplatform.settings import get_settings


def now() -> float:
    """Seconds since the epoch, as this stack's rules see them."""
    return time.time() + get_settings().clock_offset_seconds


def utcnow() -> datetime:
    return datetime.fromtimestamp(now(), UTC)
