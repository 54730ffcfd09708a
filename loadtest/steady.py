"""The steady part of a load run, which `make loadtest`'s summary and the saturation curve report.

Kept apart from the locustfile, which imports Locust (and with it gevent's monkey-patching), so
that the unit tests can import it.
"""

THROTTLED_LOGIN = "/login [429, retried]"
LOGIN_NAMES = {"/login", THROTTLED_LOGIN}


class SteadyWindow:
    """The run's steady part: requests started from ``after_seconds`` after every user has been
    spawned and every login has ended, logins excluded. At a few hundred users the logins (bcrypt,
    one at a time locally) go on for a minute after the last user is spawned, and the CPU they take
    would otherwise count against the requests of that minute."""

    def __init__(self, after_seconds: float) -> None:
        self.after_seconds = after_seconds
        self.spawned = False
        self.logging_in = 0
        self.last_login_ended: float | None = None
        self.start: float | None = None
        self.end: float | None = None
        self.times_by_name: dict[str, list[float]] = {}
        self.failures = 0

    def all_spawned(self, now: float) -> None:
        self.spawned = True
        self._open(now)

    def login_started(self) -> None:
        self.logging_in += 1

    def login_ended(self, now: float) -> None:
        self.logging_in -= 1
        self.last_login_ended = now
        self._open(now)

    def _open(self, now: float) -> None:
        # Locust reports every user spawned before the last ones have begun their logins, so a
        # login may still end before the window's start: the window then starts that much later.
        if self.spawned and self.logging_in == 0 and (self.start is None or now < self.start):
            self.start = now + self.after_seconds

    def record(self, name: str, response_time_ms: float, failed: bool, ended: float) -> None:
        if self.start is None or name in LOGIN_NAMES or ended - response_time_ms / 1000 < self.start:
            return
        if failed:
            self.failures += 1
        else:
            self.times_by_name.setdefault(name, []).append(response_time_ms)
        self.end = ended

    @property
    def times(self) -> list[float]:
        return [time for times in self.times_by_name.values() for time in times]

    def rps(self) -> float | None:
        seconds = (self.end or 0.0) - (self.start or 0.0)
        requests = sum(map(len, self.times_by_name.values())) + self.failures
        return round(requests / seconds, 1) if seconds > 0 else None
