"""Adaptive client-side rate limiting: slow down when the gateway answers 429, speed up while it does not.

A gateway that throttles (HTTP 429) is the normal answer to a bulk run, not an accident. Left
alone, a bulk run bursts until it is refused, every refused request sleeps its ``Retry-After``
and comes back with the others, and a request refused six times fails. :class:`AdaptiveThrottle`
paces the attempts of one :class:`~.transport.ApiClient` (one session's endpoint) instead, in the
spirit of the adaptive retry modes of the big cloud SDKs (a client-side token bucket whose rate
follows a CUBIC curve):

* Until the first 429 it does nothing: a session that is never throttled is never paced.
* On a 429 that shows the rate is too high (see :meth:`AdaptiveThrottle.answered`) the rate is
  cut to ``BETA`` x the rate the gateway accepted over the last ``WINDOW`` seconds: the gateway's
  own limit, measured, since a refusing gateway accepts exactly its limit.
* While answers are clean the rate grows back along a cubic curve: to the accepted rate within
  ``RECOVERY`` seconds, flat around it for a while, then faster and faster, so that a raised limit
  (or a neighbour who stopped sharing the quota) is found again.

A 429 that is isolated among many clean answers (a random refusal, not a limit) does not cut the
rate, nor does a 429 to a request sent before the last cut (it was sent at the old rate).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from typing import Callable, Protocol

from modelarts_widgets.i18n import t

THROTTLED_STATUS = 429
BETA = 0.85  # the rate after a cut, as a share of the accepted rate
RECOVERY = 3.0  # seconds to grow back to the accepted rate after a cut
WINDOW = 1.0  # seconds of answers that the accepted rate and the refused share are measured over
# A 429 cuts the rate only when at least this share of the window's answers were refused, and at
# least MIN_REFUSED of them, among at least MIN_EVIDENCE answers to attempts sent since the last
# cut: over a limit the share grows with every request sent too many, while random refusals now
# and then (a busy backend) stay below it.
REFUSED_SHARE = 0.05
MIN_REFUSED = 2
MIN_EVIDENCE = 20
FAST_SHARE = 0.25
MIN_REFUSED_FAST = 4
FAST_CUT = 0.5 / BETA  # the rate after a cut on mostly refused answers: half the rate before
MIN_RATE = 0.5  # requests per second; the rate is never cut below this
MAX_RATE = 100_000.0
MIN_SPAN = 0.1  # seconds: the shortest stretch a rate is measured over
SLOT_NAP = 0.2  # seconds between looks at the cancel event while waiting for a slot
NAP = 0.05  # seconds a waiting attempt sleeps at most before it looks at the rate again

log = logging.getLogger("modelarts_widgets")

Answered = Callable[[int], None]


class _Window:
    """Events (when, refused) of the last ``window`` seconds, and never fewer than MIN_EVIDENCE of
    them, so that a slow endpoint's answers are judged on enough of them."""

    def __init__(self) -> None:
        self._events: deque[tuple[float, bool]] = deque()
        self.refused = 0

    def __len__(self) -> int:
        return len(self._events)

    def first(self) -> float:
        return self._events[0][0]

    def add(self, when: float, refused: bool = False) -> None:
        self._events.append((when, refused))
        self.refused += refused

    def trim(self, horizon: float) -> None:
        while len(self._events) > MIN_EVIDENCE and self._events[0][0] < horizon:
            self.refused -= self._events.popleft()[1]

    def clear(self) -> None:
        self._events.clear()
        self.refused = 0


class Pacer(Protocol):
    """What :class:`~.transport.ApiClient` asks before each attempt (see :class:`AdaptiveThrottle`)."""

    def wait_turn(self, cancel: threading.Event | None = None) -> Answered: ...

    def rate(self) -> float | None: ...


class AdaptiveThrottle:
    """Paces the attempts sent to one endpoint; thread-safe, shared by every scoped view of a client.

    ``wait_turn(cancel)`` blocks (cancellably) until the next attempt may be sent and returns a
    function to call with that attempt's HTTP status. Rates are in requests per second.
    """

    def __init__(
        self,
        *,
        beta: float = BETA,
        recovery: float = RECOVERY,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < beta < 1:
            raise ValueError(t("bulk.throttle_beta", value=repr(beta)))
        if not (recovery > 0 and window > 0):
            raise ValueError(t("bulk.throttle_seconds", recovery=recovery, window=window))
        self._beta = beta
        self._window = window
        self._clock = clock
        # CUBIC: rate(t) = w_max * (1 + c * (t - recovery) ** 3), which is beta * w_max at t = 0.
        self._recovery = recovery
        self._c = (1 - beta) / recovery**3
        self._lock = threading.Lock()
        self._answers = _Window()  # answers to attempts sent since the last cut
        self._sends = _Window()  # attempts sent
        self._history = _Window()  # every answer
        self._pacing = False
        self._w_max = 0.0
        self._cut_at = -math.inf
        self._last_turn = -math.inf  # when the last paced attempt went
        # Totals since creation, for figures and logs.
        self.accepted = 0
        self.refused = 0
        self.cuts = 0

    # -- the rate ------------------------------------------------------------------------------

    def _rate_at(self, now: float) -> float:
        since = now - self._cut_at
        rate = self._w_max * (1 + self._c * (since - self._recovery) ** 3)
        return min(MAX_RATE, max(MIN_RATE, rate))

    def rate(self) -> float | None:
        """The current pacing rate in requests per second; None while nothing is paced."""
        with self._lock:
            return self._rate_at(self._clock()) if self._pacing else None

    # -- the hook ------------------------------------------------------------------------------

    def wait_turn(self, cancel: threading.Event | None = None) -> Answered:
        """Block until an attempt may be sent; return ``answered(status)`` for its answer.

        Raises :class:`~.transport.Cancelled` (``Client.Cancelled``) as soon as ``cancel`` is set
        while waiting. Call it before signing, so that the signature is as fresh as the send.
        """
        while True:
            with self._lock:
                now = self._clock()
                if not self._pacing:
                    return self._sent(now)
                interval = 1 / self._rate_at(now)
                due = self._last_turn + interval
                if due <= now:
                    # A turn taken late does not make the next one late too (one turn of slack).
                    self._last_turn = max(due, now - interval)
                    return self._sent(now)
            # Waiters look again at least every NAP seconds: the rate grows while they wait.
            wait = min(due - now, NAP)
            if cancel is None:
                time.sleep(wait)
            elif cancel.wait(wait):
                from .transport import Cancelled

                raise Cancelled()

    def _sent(self, sent_at: float) -> Answered:
        """Note an attempt going out (with the lock held); its answer is to be reported."""
        self._sends.add(sent_at)
        self._sends.trim(sent_at - self._window)

        def answered(status: int) -> None:
            self.answered(status, sent_at)

        return answered

    def answered(self, status: int, sent_at: float) -> None:
        """Record the answer to an attempt sent at ``sent_at`` (this clock); a 429 may cut the rate."""
        refused = status == THROTTLED_STATUS
        with self._lock:
            now = self._clock()
            if refused:
                self.refused += 1
            else:
                self.accepted += 1
            horizon = now - self._window
            # What the gateway accepted lately, whenever it was sent: the measure of its limit.
            self._history.add(now, refused)
            self._history.trim(horizon)
            self._sends.trim(horizon)
            if sent_at < self._cut_at:
                return  # sent at the rate before the last cut: no evidence against the current one
            self._answers.add(now, refused)
            self._answers.trim(horizon)
            answers, refusals = len(self._answers), self._answers.refused
            many = answers >= MIN_EVIDENCE and refusals >= max(MIN_REFUSED, REFUSED_SHARE * answers)
            # Far too fast (most answers refused) shows sooner: no need to wait for MIN_EVIDENCE.
            most = refusals >= MIN_REFUSED_FAST and refusals >= FAST_SHARE * answers
            if not refused or not (many or most):
                return  # too few refusals, or too rare, to tell a limit from an accident
            # Rates over the time the data really covers: at the start of a run that is less
            # than the window, and dividing by the whole window would guess far too low (a rate
            # too high is corrected by the next refusals within moments; one too low only by
            # the slow growth).
            answered_for = max(MIN_SPAN, now - self._history.first())
            accepted_rate = (len(self._history) - self._history.refused) / answered_for
            # Attempts still in flight count as accepted: their answers may just be slower
            # than a refusal.
            sent_for = max(MIN_SPAN, now - self._sends.first()) if len(self._sends) else MIN_SPAN
            accepted_rate = max(accepted_rate, (len(self._sends) - self._history.refused) / sent_for)
            if self._pacing:
                # Most refused: the measure is still swollen by a burst the gateway let through
                # (or by answers not in yet), so halve at least, as TCP does on heavy loss.
                current = self._rate_at(now) * (FAST_CUT if most and not many else 1.0)
                accepted_rate = min(accepted_rate, current)
            log.debug(
                "HTTP 429 for %d of %d answers: pacing at %.1f requests/s",
                refusals,
                answers,
                max(MIN_RATE, self._beta * accepted_rate),
            )
            self._w_max = max(MIN_RATE, accepted_rate)
            self._cut_at = now
            self._pacing = True
            self._last_turn = now
            self.cuts += 1
            # The next cut is judged on answers to attempts sent from now on.
            self._answers.clear()


class InFlightGate:
    """At most ``limit`` attempts of one job in flight, counting exchanges, not waits.

    It stands in for the client's throttle in one job's scoped view (the shared throttle still
    paces every attempt): a worker holds a slot from its turn to the answer, and gives it back
    while it waits out a ``Retry-After`` or a back-off, so the job's other workers keep the
    slots busy. A job runs more workers than ``limit`` for that, and calls :meth:`release`
    after each call, since an attempt that fails without an answer reports no status.
    """

    def __init__(self, throttle: Pacer, limit: int) -> None:
        self.throttle = throttle
        self._slots = threading.BoundedSemaphore(limit)
        self._held = threading.local()

    def wait_turn(self, cancel: threading.Event | None = None) -> Answered:
        """Take a slot (cancellably; a thread holds one at most), then the throttle's turn."""
        if not self.hold(cancel):
            from .transport import Cancelled

            raise Cancelled()
        try:
            answered = self.throttle.wait_turn(cancel)
        except BaseException:
            self.release()
            raise

        def done(status: int) -> None:
            self.release()
            answered(status)

        return done

    def hold(self, cancel: threading.Event | None = None) -> bool:
        """Take a slot for the calling thread's next attempt; False when ``cancel`` is set first."""
        if getattr(self._held, "slot", False):
            return True
        while not self._slots.acquire(timeout=SLOT_NAP):
            if cancel is not None and cancel.is_set():
                return False
        self._held.slot = True
        return True

    def release(self) -> None:
        """Give back the calling thread's slot, if it holds one."""
        if getattr(self._held, "slot", False):
            self._held.slot = False
            self._slots.release()

    def rate(self) -> float | None:
        return self.throttle.rate()
