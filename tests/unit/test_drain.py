"""Draining an outbox batch by batch (eduplatform.drain), as the outbox relay and the mail relay do."""

from eduplatform.drain import drain


def batches(*answers: tuple[int, int]):
    """A batch function answering ``answers`` in turn, and the list of the answers it gave."""
    given: list[tuple[int, int]] = []

    def batch() -> tuple[int, int]:
        given.append(answers[len(given)])
        return given[-1]

    return batch, given


def test_full_batches_go_on_until_a_short_one():
    batch, given = batches((10, 0), (10, 0), (4, 0), (10, 0))
    assert drain(batch, batch_size=10, max_batches=50) == (24, 0)
    assert len(given) == 3


def test_nothing_pending_takes_one_batch():
    batch, given = batches((0, 0), (10, 0))
    assert drain(batch, batch_size=10, max_batches=50) == (0, 0)
    assert len(given) == 1


def test_a_batch_with_failures_ends_the_pass_even_when_full():
    batch, given = batches((10, 0), (7, 3), (10, 0))
    assert drain(batch, batch_size=10, max_batches=50) == (17, 3)
    assert len(given) == 2


def test_a_pass_runs_at_most_its_limit_of_batches():
    batch, given = batches(*[(10, 0)] * 6)
    assert drain(batch, batch_size=10, max_batches=5) == (50, 0)
    assert len(given) == 5
