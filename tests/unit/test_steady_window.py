"""The load test's steady window: it opens only once every user is spawned and every login has ended."""

from loadtest.steady import LOGIN_NAMES, SteadyWindow


def test_window_waits_for_the_last_login_after_spawning():
    window = SteadyWindow(after_seconds=10)
    window.login_started()
    window.login_started()
    window.all_spawned(now=100.0)
    window.login_ended(now=130.0)
    assert window.start is None, "a login is still running"
    window.login_ended(now=160.0)
    assert window.start == 170.0
    assert window.last_login_ended == 160.0


def test_window_opens_at_spawning_when_the_logins_ended_before():
    window = SteadyWindow(after_seconds=10)
    window.login_started()
    window.login_ended(now=50.0)
    assert window.start is None, "users are still being spawned"
    window.all_spawned(now=60.0)
    assert window.start == 70.0
    window.login_started()  # a user started later (Locust respawns) does not move the window
    window.login_ended(now=90.0)
    assert window.start == 70.0


def test_a_login_that_begins_just_after_spawning_moves_the_start():
    window = SteadyWindow(after_seconds=10)
    window.all_spawned(now=4.0)  # the last users spawned have not begun their logins yet
    assert window.start == 14.0
    window.login_started()
    window.login_ended(now=6.0)
    assert window.start == 16.0


def test_only_non_login_requests_started_inside_the_window_count():
    window = SteadyWindow(after_seconds=10)
    window.all_spawned(now=0.0)
    window.record("/courses", 5.0, failed=False, ended=9.0)  # before the window
    window.record("/courses", 2000.0, failed=False, ended=11.0)  # started at 9 s, before the window
    window.record("/courses", 20.0, failed=False, ended=12.0)
    window.record(next(iter(LOGIN_NAMES)), 300.0, failed=False, ended=13.0)
    window.record("/enrollments", 40.0, failed=True, ended=20.0)
    assert window.times == [20.0]
    assert window.times_by_name == {"/courses": [20.0]}
    assert window.failures == 1
    assert window.rps() == round(2 / 10, 1)


def test_no_window_no_rate():
    window = SteadyWindow(after_seconds=10)
    window.login_started()
    window.all_spawned(now=0.0)
    window.record("/courses", 5.0, failed=False, ended=30.0)
    assert window.times == [] and window.rps() is None
