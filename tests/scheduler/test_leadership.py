"""One active scheduler per database: a second one waits until the first lets go."""

from __future__ import annotations

from okr_rollout.scheduler import Leadership

KEY = 424_242


def test_a_second_scheduler_waits_until_the_first_lets_go(database_url: str) -> None:
    first, second = Leadership(database_url, KEY), Leadership(database_url, KEY)
    try:
        assert first.hold() is True
        assert second.hold() is False
        assert first.hold() is True  # still the active one when asked again
        first.release()
        assert second.hold() is True
        assert first.hold() is False
    finally:
        first.release()
        second.release()
