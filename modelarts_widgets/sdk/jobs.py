"""What every bulk job shares (:class:`.bulk.BulkDelete`, :class:`.restore.BulkRestore`).

A job takes names, gives each exactly one final status, runs on a coordinator thread of its
own, and sends nothing after :meth:`Job.cancel` (what is in flight reports its true outcome).
The subclass says what one run does (``_run``) and which states end a name.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Collection
from typing import Callable, ClassVar, Optional, TypeVar

from modelarts_widgets.i18n import t

from . import errors
from .configs import Status
from .session import Session
from .states import CANCELLED, QUEUED
from .text import visible

log = logging.getLogger("modelarts_widgets")

OnStatus = Callable[[str, str, Optional[Status]], None]
J = TypeVar("J", bound="Job")


def polled_wait(event: threading.Event, timeout: float | None = None) -> bool:
    """``event.wait(timeout)`` in slices of 0.1 s, so that a Ctrl-C that comes as interrupt_main()
    (a kernel's interrupt message), which wakes no blocked wait, is seen at once."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
        if left <= 0:
            return event.is_set()
        if event.wait(left):
            return True


class Job:
    """Names, their states and results, a coordinator thread, cancel, wait and run.

    ``on_status(name, state, result)`` is called from worker threads as each name changes
    state; ``result`` is the ``delete_job_configs()``-shaped dict once the name is final.
    Every request goes through ``self._calls``, the session's view for this job: ``cancel()``
    cuts its waits short, and an unreachable endpoint stops the job (the rest end not sent).
    """

    FINAL_STATES: ClassVar[Collection[str]]
    KIND: ClassVar[str]  # "delete" or "restore": what the widget tells the page the job is
    THREAD_NAME: ClassVar[str]
    STOPPED_KEY: ClassVar[str]  # catalog key: why a name was not sent when the job was stopped
    STARTED_KEY: ClassVar[str]  # catalog key: the job was started twice
    GATED: ClassVar[bool] = False  # whether ``self._calls`` holds at most ``concurrency`` in flight

    def __init__(
        self, session: Session, names: list[str], concurrency: int, on_status: OnStatus | None
    ) -> None:
        if concurrency < 1:
            raise ValueError(t("bulk.concurrency", value=concurrency))
        self.session = session
        self.names = names
        self.concurrency = concurrency
        self._on_status = on_status
        self._cancel = threading.Event()
        self._unreachable = ""
        self._calls = self._view(concurrency if self.GATED else None)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._coordinator: threading.Thread | None = None
        # start, wait and cancel look at and set the coordinator under it, so that two callers
        # at once never start two coordinators (every request sent twice).
        self._starting = threading.RLock()
        self._stop_reason = ""
        self.results: dict[str, Status] = {}
        self.states: dict[str, str] = dict.fromkeys(names, QUEUED)

    def _view(self, in_flight: int | None = None) -> Session:
        """The session for this job's requests: it stops with the job; ``in_flight`` gates it."""
        return self.session.scoped(self._cancel, self._stop_unreachable, in_flight=in_flight)

    # -- reporting --------------------------------------------------------------------------

    def _set(self, name: str, state: str, result: Status | None = None) -> None:
        with self._lock:
            if self.states.get(name) in self.FINAL_STATES:
                return
            self.states[name] = state
            if result is not None:
                self.results[name] = result
        if self._on_status is not None:
            try:
                self._on_status(name, state, result)
            except Exception:
                log.exception("on_status callback failed for %s", visible(name))

    # -- running ----------------------------------------------------------------------------

    def start(self: J) -> J:
        """Start on a background thread and return at once."""
        with self._starting:
            # A coordinator that never started (e.g. Ctrl-C inside Thread.start) may be started again.
            if self._coordinator is not None and self._coordinator.ident is not None:
                raise RuntimeError(t(self.STARTED_KEY))
            self._launch()
        return self

    def _launch(self) -> None:
        """Start the coordinator (call with ``self._starting`` held)."""
        if self._done.is_set():  # cancelled before it started: every name is final already
            return
        # The thread runs in a copy of this context: its texts speak the starter's language.
        self._coordinator = threading.Thread(
            target=contextvars.copy_context().run, args=(self._run,), name=self.THREAD_NAME, daemon=True
        )
        self._coordinator.start()

    def _run(self) -> None:
        """The job's work; it must end by calling :meth:`_finish` (in a ``finally``)."""
        raise NotImplementedError

    def _stop(self, result: Status) -> None:
        """The credentials were refused: every other request would be too, so send nothing more."""
        with self._lock:
            if self._cancel.is_set():
                return
            self._stop_reason = f"{result.get('error_code')}: {result.get('error_msg', '')}"
            self._cancel.set()

    def _stop_unreachable(self, reason: str) -> None:
        with self._lock:
            if not self._unreachable:
                self._unreachable = reason
        self._cancel.set()

    def _finish(self) -> None:
        """Every name without a final state ends ``cancelled``, with the reason the job stopped."""
        if self._stop_reason:
            why = t("bulk.credentials_rejected", reason=self._stop_reason)
        elif self._unreachable:
            why = t("bulk.unreachable", reason=self._unreachable)
        else:
            why = t(self.STOPPED_KEY)
        for name in self.names:
            if self.states[name] not in self.FINAL_STATES:
                self._set(name, CANCELLED, errors.failure(errors.CANCELLED, why))
        self._done.set()

    def cancel(self) -> None:
        """Send nothing more; names not yet sent end as ``cancelled`` (at once if it never started)."""
        self._cancel.set()
        with self._starting:
            if self._coordinator is None or self._coordinator.ident is None:
                self._finish()  # nothing was sent; a later start() only finds every name final

    @property
    def finished(self) -> threading.Event:
        """Set once every name has its final status (wait on it; never set it)."""
        return self._done

    def wait(self, timeout: float | None = None) -> dict[str, Status]:
        """Block until every name has its result (or ``timeout`` seconds); the results so far.

        After :meth:`cancel`, this returns once the requests in flight have their answers (waits
        between attempts end at once); nothing is sent after it returns.
        """
        with self._starting:
            if self._coordinator is None:
                self._launch()
        polled_wait(self._done, timeout)
        return {name: self.results[name] for name in self.names if name in self.results}

    def run(self) -> dict[str, Status]:
        """Start, wait for the end, and cancel what is unsent on KeyboardInterrupt."""
        try:
            # Inside the try: a Ctrl-C landing in start() (say in Thread.start, once the
            # coordinator is off) stops the job too; one that never started ends not sent.
            self.start()
            return self.wait()
        except KeyboardInterrupt:
            self.cancel()
            self.wait()
            raise
