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
from typing import Callable

THROTTLED_STATUS = 429
BETA = 0.85  # the rate after a cut, as a share of the accepted rate
RECOVERY = 1.5  # seconds to grow back to the accepted rate after a cut
WINDOW = 1.0  # seconds of answers that the accepted rate and the refused share are measured over
# A 429 cuts the rate only when at least this share of the window's answers were refused (and at
# least one): over a limit the share grows with every request sent too many, while a random
# refusal now and then stays below it.
REFUSED_SHARE = 0.02
MIN_RATE = 0.5  # requests per second; the rate is never cut below this
MAX_RATE = 100_000.0
MIN_SPAN = 0.1  # seconds: the shortest stretch a rate is measured over
MIN_EVIDENCE = 5  # attempts within the window before a refusal may set a rate
NAP = 0.05  # seconds a waiting attempt sleeps at most before it looks at the rate again

log = logging.getLogger("modelarts_widgets")

Answered = Callable[[int], None]


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
            raise ValueError(f"beta must be between 0 and 1, not {beta!r}")
        if not (recovery > 0 and window > 0):
            raise ValueError("recovery and window must be > 0 seconds")
        self._beta = beta
        self._window = window
        self._clock = clock
        # CUBIC: rate(t) = w_max * (1 + c * (t - recovery) ** 3), which is beta * w_max at t = 0.
        self._recovery = recovery
        self._c = (1 - beta) / recovery**3
        self._lock = threading.Lock()
        self._answers: deque[tuple[float, bool]] = deque()  # (when, refused) within the window
        self._sends: deque[float] = deque()  # when each attempt within the window went
        self._refused_in_window = 0
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
        self._sends.append(sent_at)
        horizon = sent_at - self._window
        while self._sends and self._sends[0] < horizon:
            self._sends.popleft()

        def answered(status: int) -> None:
            self.answered(status, sent_at)

        return answered

    def answered(self, status: int, sent_at: float) -> None:
        """Record the answer to an attempt sent at ``sent_at`` (this clock); a 429 may cut the rate."""
        refused = status == THROTTLED_STATUS
        with self._lock:
            now = self._clock()
            self._answers.append((now, refused))
            if refused:
                self.refused += 1
                self._refused_in_window += 1
            else:
                self.accepted += 1
            horizon = now - self._window
            while self._answers and self._answers[0][0] < horizon:
                if self._answers.popleft()[1]:
                    self._refused_in_window -= 1
            if not refused or sent_at < self._cut_at:
                return
            answers = len(self._answers)
            if self._refused_in_window < max(1.0, REFUSED_SHARE * answers):
                return
            while self._sends and self._sends[0] < horizon:
                self._sends.popleft()
            if len(self._sends) < MIN_EVIDENCE:
                return  # a lone request refused says nothing of a rate; it waits its Retry-After
            # Rates over the time the window's data really covers: at the start of a run that is
            # less than the window, and dividing by the whole window would guess far too low (a
            # rate too high is corrected by the next refusals within moments; one too low only
            # by the slow growth).
            answered_for = max(MIN_SPAN, now - self._answers[0][0])
            accepted_rate = (answers - self._refused_in_window) / answered_for
            # Attempts still in flight count as accepted: their answers may just be slower
            # than a refusal.
            sent_for = max(MIN_SPAN, now - self._sends[0])
            accepted_rate = max(accepted_rate, (len(self._sends) - self._refused_in_window) / sent_for)
            if self._pacing:
                accepted_rate = min(accepted_rate, self._rate_at(now))
            self._w_max = max(MIN_RATE, accepted_rate)
            self._cut_at = now
            self._pacing = True
            self._last_turn = now
            self.cuts += 1
            log.debug(
                "HTTP 429 with %d of %d answers refused in %g s: pacing at %.1f requests/s",
                self._refused_in_window,
                answers,
                self._window,
                self._rate_at(now),
            )
