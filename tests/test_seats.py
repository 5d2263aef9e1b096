"""The voice-chat room: a seat per person, a line for the rest, idle release, one page per person."""

from __future__ import annotations

import threading

import pytest

from chaptan.accounts.seats import POLL_GRACE, SeatRefused, SeatRoom, SeatStatus


class Clock:
    """Time that moves only when the test says, so idle release is checked without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def users(n: int) -> list[str]:
    return [f"user{i:02d}" for i in range(1, n + 1)]


def test_twelve_people_ten_seats_two_waiting_in_order_then_moving_up():
    room = SeatRoom(10, idle_seconds=300, clock=Clock())
    states = {name: room.join(name, f"page-{name}") for name in users(12)}
    assert [s.status for s in states.values()].count(SeatStatus.SEATED) == 10
    assert states["user11"].status is SeatStatus.WAITING and states["user11"].position == 1
    assert states["user12"].status is SeatStatus.WAITING and states["user12"].position == 2

    room.leave("user03", "page-user03")
    assert room.state("user11", "page-user11").status is SeatStatus.SEATED
    moved_up = room.state("user12", "page-user12")
    assert (moved_up.status, moved_up.position) == (SeatStatus.WAITING, 1)
    assert room.state("user03", "page-user03").status is SeatStatus.OUT
    assert room.occupancy() == (10, 1)


def test_a_second_page_of_the_same_person_takes_no_seat_and_can_move_it():
    room = SeatRoom(1, idle_seconds=300, clock=Clock())
    assert room.join("alice", "tab-1").status is SeatStatus.SEATED
    assert room.join("alice", "tab-2").status is SeatStatus.ELSEWHERE
    assert room.join("bob", "bob-tab").position == 1  # alice's second page did not take bob's place
    with pytest.raises(SeatRefused, match="another tab"):
        room.take_turn("alice", "tab-2")
    room.take_turn("alice", "tab-1")

    assert room.move_here("alice", "tab-2").status is SeatStatus.SEATED
    assert room.state("alice", "tab-1").status is SeatStatus.ELSEWHERE
    with pytest.raises(SeatRefused):
        room.take_turn("alice", "tab-1")
    room.leave("alice", "tab-1")  # the page without the seat cannot give it away
    assert room.occupancy() == (1, 1)
    room.leave("alice", "tab-2")
    assert room.state("bob", "bob-tab").status is SeatStatus.SEATED


def test_a_seat_idle_too_long_goes_to_the_next_in_line_and_its_old_page_is_refused():
    clock = Clock()
    room = SeatRoom(2, idle_seconds=60, clock=clock)
    room.join("alice", "a")
    room.join("bob", "b")
    room.join("carol", "c")
    for _ in range(2):  # carol's page polls every few seconds, which keeps her place in line
        clock.now += 20
        room.poll("carol", "c")
    room.take_turn("bob", "b")  # speaking keeps bob's seat; alice's page only polls
    room.poll("alice", "a")
    clock.now += 25  # alice: 65 s without a question; bob: 25 s
    assert room.poll("carol", "c").status is SeatStatus.SEATED
    assert room.poll("bob", "b").status is SeatStatus.SEATED
    assert room.poll("alice", "a").status is SeatStatus.OUT
    with pytest.raises(SeatRefused, match="take a seat"):
        room.take_turn("alice", "a")
    back = room.move_here("alice", "a")  # "Take a seat": back in line, at the end
    assert (back.status, back.position) == (SeatStatus.WAITING, 1)


def test_a_waiting_page_that_stops_polling_leaves_the_line():
    clock = Clock()
    room = SeatRoom(1, idle_seconds=600, clock=clock)
    room.join("alice", "a")
    room.join("bob", "b")  # closes the page without telling anyone
    room.join("carol", "c")
    for _ in range(4):
        clock.now += POLL_GRACE / 2
        room.poll("carol", "c")
    assert room.state("bob", "b").status is SeatStatus.OUT
    assert room.state("carol", "c").position == 1


def test_api_calls_hold_a_seat_only_for_the_call_and_are_refused_when_the_room_is_full():
    room = SeatRoom(2, idle_seconds=300, clock=Clock())
    room.join("alice", "a")
    with room.seat_for_call("bob"):
        assert room.occupancy() == (2, 0)
        with pytest.raises(SeatRefused, match="All 2 voice-chat seats are taken"):
            with room.seat_for_call("carol"):
                pass
    assert room.occupancy() == (1, 0)
    with room.seat_for_call("alice"):  # a person seated in the browser calls through their own seat
        assert room.occupancy() == (1, 0)
    room.join("bob", "b")
    room.join("carol", "c")
    with pytest.raises(SeatRefused):  # someone is waiting: a script does not jump the line
        with room.seat_for_call("dave"):
            pass


def test_no_seat_leaks_after_a_hundred_join_and_leave_cycles_from_many_threads():
    room = SeatRoom(10, idle_seconds=300)
    errors: list[Exception] = []

    def cycle(name: str) -> None:
        try:
            for i in range(100):
                page = f"{name}-{i % 3}"
                room.join(name, page)
                room.poll(name, page)
                room.leave(name, page)
        except Exception as exc:  # a failure in a thread must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=cycle, args=(name,)) for name in users(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and not any(thread.is_alive() for thread in threads)
    assert room.occupancy() == (0, 0)
    assert room.join("late", "page").status is SeatStatus.SEATED
