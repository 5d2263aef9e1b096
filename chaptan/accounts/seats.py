"""Who is in the voice-chat room: a seat per signed-in person, a visible queue for the rest.

The queue's concurrency limit bounds how many turns run at once; this bounds who holds the room.
A person holds at most one seat, from one page ("tab"); a second page of theirs is told the seat is
in use elsewhere and may move it. A seat is released when its page leaves the voice tab or closes,
or when its holder has not spoken for `idle_seconds`. Pages that stop polling (closed without
telling) drop out of the line after `POLL_GRACE` seconds, so a dead page never blocks the queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from ..errors import ChaptanError
from ..messages import Message

POLL_GRACE = 30.0  # a waiting page that has not polled for this long has gone
API_PAGE = "api:"  # pages of gradio_client calls, which hold a seat only for the call


class SeatStatus(str, Enum):
    SEATED = "seated"
    WAITING = "waiting"
    ELSEWHERE = "elsewhere"  # the person's seat (or place in line) belongs to another page of theirs
    OUT = "out"  # not in the room: never joined, left, or idled out


@dataclass(frozen=True)
class SeatState:
    status: SeatStatus
    position: int = 0  # 1-based place in line while waiting
    seats: int = 0
    waiting: int = 0  # people in line


class SeatRefused(ChaptanError):
    """A turn from a page that holds no seat."""


@dataclass
class _Place:
    user: str
    page: str
    active: float  # last turn or join: what the idle timeout counts from
    polled: float


class SeatRoom:
    def __init__(self, seats: int, idle_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seats = max(1, seats)
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._seated: dict[str, _Place] = {}  # by user
        self._line: list[_Place] = []  # one place per user, first come first seated

    # -- what pages do -------------------------------------------------------------------------
    def join(self, user: str, page: str) -> SeatState:
        """The page opened the voice tab. A person already seated or waiting from another page keeps
        that place; this page is told so (see `move_here`)."""
        with self._lock:
            now = self._clock()
            self._settle(now)
            place = self._place(user)
            if place is None:
                self._line.append(_Place(user, page, now, now))
                self._settle(now)
            elif place.page == page:
                place.polled = now
            return self._state(user, page)

    def poll(self, user: str, page: str) -> SeatState:
        """The page asks where it stands; polling keeps a place in line but is not activity."""
        with self._lock:
            now = self._clock()
            place = self._place(user)
            if place is not None and place.page == page:
                place.polled = now
            self._settle(now)
            return self._state(user, page)

    def move_here(self, user: str, page: str) -> SeatState:
        """Hand the person's seat or place in line to this page."""
        with self._lock:
            now = self._clock()
            place = self._place(user)
            if place is None:
                self._line.append(_Place(user, page, now, now))
            else:
                place.page, place.active, place.polled = page, now, now
            self._settle(now)
            return self._state(user, page)

    def leave(self, user: str, page: str) -> None:
        """The page left the voice tab or closed; only the page holding the place can give it up."""
        with self._lock:
            place = self._place(user)
            if place is not None and place.page == page:
                self._remove(place)
            self._settle(self._clock())

    def take_turn(self, user: str, page: str) -> None:
        """A turn from this page: refused unless it holds the person's seat; counts as activity."""
        with self._lock:
            now = self._clock()
            self._settle(now)
            place = self._seated.get(user)
            if place is None or place.page != page:
                raise SeatRefused(self._refusal(user, page))
            place.active = place.polled = now

    @contextmanager
    def seat_for_call(self, user: str) -> Iterator[None]:
        """A gradio_client call: the person's seat if they hold one (from any page), else a free seat
        taken for the call alone, else a refusal that says how full the room is."""
        with self._lock:
            now = self._clock()
            self._settle(now)
            place = self._seated.get(user)
            taken = place is None
            if taken:
                if len(self._seated) >= self.seats or self._line:
                    raise SeatRefused("All {seats} voice-chat seats are taken and {waiting} waiting; "
                                      "try again later.", seats=self.seats, waiting=len(self._line))
                self._seated[user] = _Place(user, API_PAGE + user, now, now)
            else:
                place.active = now
        try:
            yield
        finally:
            if taken:
                with self._lock:
                    place = self._seated.get(user)
                    if place is not None and place.page == API_PAGE + user:
                        del self._seated[user]
                    self._settle(self._clock())

    def state(self, user: str, page: str) -> SeatState:
        with self._lock:
            self._settle(self._clock())
            return self._state(user, page)

    def occupancy(self) -> tuple[int, int]:
        """(people seated, people waiting)."""
        with self._lock:
            self._settle(self._clock())
            return len(self._seated), len(self._line)

    # -- bookkeeping, under the lock ------------------------------------------------------------
    def _place(self, user: str) -> _Place | None:
        return self._seated.get(user) or next((p for p in self._line if p.user == user), None)

    def _remove(self, place: _Place) -> None:
        if self._seated.get(place.user) is place:
            del self._seated[place.user]
        elif place in self._line:
            self._line.remove(place)

    def _settle(self, now: float) -> None:
        """Idle holders lose their seats, gone pages their places; the line moves up."""
        for place in list(self._seated.values()):
            if now - place.active > self.idle_seconds and not place.page.startswith(API_PAGE):
                del self._seated[place.user]
        self._line = [p for p in self._line if now - p.polled <= POLL_GRACE]
        while self._line and len(self._seated) < self.seats:
            place = self._line.pop(0)
            place.active = now
            self._seated[place.user] = place

    def _state(self, user: str, page: str) -> SeatState:
        counts = {"seats": self.seats, "waiting": len(self._line)}
        place = self._place(user)
        if place is None:
            return SeatState(SeatStatus.OUT, **counts)
        if place.page != page:
            return SeatState(SeatStatus.ELSEWHERE, **counts)
        if self._seated.get(user) is place:
            return SeatState(SeatStatus.SEATED, **counts)
        return SeatState(SeatStatus.WAITING, position=self._line.index(place) + 1, **counts)

    def _refusal(self, user: str, page: str) -> Message:
        state = self._state(user, page)
        if state.status is SeatStatus.ELSEWHERE:
            return Message("Your voice-chat seat is in use in another tab or browser; move it here first.")
        if state.status is SeatStatus.WAITING:
            return Message("Waiting for a voice-chat seat: you are number {position}.",
                           position=state.position)
        return Message("You have no voice-chat seat (freed after a while without questions): "
                       "take a seat first.")
