"""Fault injection: latency, throttling, server errors and dropped connections, changeable live."""

from __future__ import annotations

import copy
import math
import random
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from . import contract

# What a random fault can be: an HTTP error, or a connection dropped before or after the work.
FAULT_KINDS = ("429", "500", "503", "drop", "drop_after")
# Answers that are not the API's, given instead of doing the work: a gateway's HTML page,
# truncated JSON, an empty 200, and a 200 without the v1 envelope.
MALFORMED_KINDS = ("html", "badjson", "empty", "noenvelope")
# The configs API's operations, as ``deny`` names them.
OPERATIONS = ("list", "get", "create", "update", "delete")
# The methods the emulator answers (``fault_methods``) and the redirects it can give.
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "TRACE")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


@dataclass
class Faults:
    """Settings of the fault injector; every field can be changed while the emulator runs."""

    latency: float = 0.0
    error_rate: float = 0.0
    kinds: list[str] = field(default_factory=lambda: list(FAULT_KINDS))
    retry_after: float = 1.0
    rate_limit: float = 0.0  # requests per second; 0 means unlimited
    clock_offset: float = 0.0  # seconds added to the emulator's clock (simulates skew)
    fail_names: dict[str, list[Any]] = field(default_factory=dict)  # name -> [status, code, msg]
    drop_after_names: list[str] = field(default_factory=list)  # DELETE/create done, answer lost, once
    deny: list[str] = field(default_factory=list)  # operations refused with ModelArts.0108
    seed: int | None = None
    # Raw Retry-After value sent instead of ceil(retry_after): "86400.5", "1e10", "inf", an HTTP date.
    retry_after_value: str | None = None
    # "http://host:port": every API, IAM and metadata call is answered with a redirect there.
    redirect_to: str = ""
    redirect_status: int = 307
    trickle: float = 0.0  # seconds between bytes of every answer (headers included); 0 = off
    total_count: int | None = None  # the config_total_count the list answers claim instead of the truth
    null_when_empty: bool = False  # an empty list page says "configs": null
    fault_methods: list[str] = field(default_factory=list)  # random faults only for these; [] = all
    # Operations (see OPERATIONS) whose requests wait, once authenticated, until the test calls
    # Emulator.release(): a request held in flight for as long as the test needs, no sleeps.
    hold: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ready", True)

    def __setattr__(self, name: str, value: Any) -> None:
        # A setting changed in place (``em.faults.error_rate = 2``) is checked as the constructor's
        # Emulator and the HTTP route check theirs: a bad value raises and nothing changes.
        if getattr(self, "_ready", False):
            if name not in _SETTINGS:
                raise AttributeError(f"Unknown fault setting: {name}; known: {', '.join(sorted(_SETTINGS))}")
            trial = copy.copy(self)
            object.__setattr__(trial, name, value)
            trial.check()
        object.__setattr__(self, name, value)

    def retry_after_header(self) -> str:
        if self.retry_after_value is not None:
            return self.retry_after_value
        value = self.retry_after
        return str(math.ceil(value)) if math.isfinite(value) else str(value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check(self) -> None:
        """Refuse settings that would be silently ignored or miscounted (ValueError)."""
        known = FAULT_KINDS + MALFORMED_KINDS
        if not isinstance(self.kinds, list):
            raise ValueError(f"kinds must be a list of fault kinds, not {self.kinds!r}")
        unknown = [k for k in self.kinds if k not in known]
        if unknown:
            raise ValueError(
                f"Unknown fault kinds: {', '.join(map(str, unknown))}; known: {', '.join(known)}"
            )
        rate = self.error_rate
        if not _number(rate) or not 0 <= rate <= 1:
            raise ValueError(f"error_rate must be a number from 0 to 1, not {rate!r}")
        if rate > 0 and not self.kinds:
            raise ValueError(f"error_rate {rate} needs at least one fault kind; none are set")
        # A negative latency would fail every request in time.sleep, an infinite one hang it.
        for name in ("latency", "retry_after", "rate_limit", "trickle"):
            value = getattr(self, name)
            if not _number(value) or value < 0:
                raise ValueError(f"{name} must be a number of 0 or more, not {value!r}")
        if not _number(self.clock_offset):
            raise ValueError(f"clock_offset must be a number of seconds, not {self.clock_offset!r}")
        if not isinstance(self.fail_names, dict):
            raise ValueError("fail_names maps config names to [status, code, message]")
        for name, answer in self.fail_names.items():
            _check_failure(name, answer)
        if not isinstance(self.drop_after_names, list) or not all(
            isinstance(n, str) for n in self.drop_after_names
        ):
            raise ValueError(f"drop_after_names must be a list of names, not {self.drop_after_names!r}")
        if not isinstance(self.deny, list) or not set(self.deny) <= set(OPERATIONS):
            raise ValueError(f"deny takes operations among {', '.join(OPERATIONS)}, not {self.deny!r}")
        if not isinstance(self.hold, list) or not set(self.hold) <= set(OPERATIONS):
            raise ValueError(f"hold takes operations among {', '.join(OPERATIONS)}, not {self.hold!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ValueError(f"seed must be an integer or null, not {self.seed!r}")
        if not isinstance(self.fault_methods, list) or not set(self.fault_methods) <= set(METHODS):
            raise ValueError(
                f"fault_methods takes methods among {', '.join(METHODS)}, not {self.fault_methods!r}"
            )
        if not isinstance(self.redirect_to, str):
            raise ValueError(f"redirect_to must be a URL or empty, not {self.redirect_to!r}")
        if self.redirect_status not in REDIRECT_STATUSES or isinstance(self.redirect_status, bool):
            raise ValueError(
                f"redirect_status is one of {', '.join(map(str, REDIRECT_STATUSES))},"
                f" not {self.redirect_status!r}"
            )
        count = self.total_count
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise ValueError(f"total_count must be an integer or null, not {count!r}")
        if not isinstance(self.null_when_empty, bool):
            raise ValueError(f"null_when_empty must be true or false, not {self.null_when_empty!r}")
        if self.retry_after_value is not None and not isinstance(self.retry_after_value, str):
            raise ValueError(
                f"retry_after_value is the raw header text or null, not {self.retry_after_value!r}"
            )


_SETTINGS = frozenset(f.name for f in fields(Faults))


def _number(value: Any) -> bool:
    """A finite JSON number (``true`` is not one)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _check_failure(name: Any, answer: Any) -> None:
    """One ``fail_names`` entry: an error status, a code, a message; a documented code keeps its status."""
    if not isinstance(answer, list) or len(answer) != 3:
        raise ValueError(f"fail_names[{name!r}] must be [status, code, message], not {answer!r}")
    status, code, message = answer
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise ValueError(f"fail_names[{name!r}]: the status must be an HTTP error status, not {status!r}")
    if not isinstance(code, str) or not isinstance(message, str):
        raise ValueError(f"fail_names[{name!r}]: the code and the message are strings")
    documented = contract.ERROR_STATUS.get(code)
    if documented is not None and status not in (documented, *contract.OTHER_STATUS.get(code, ())):
        raise ValueError(
            f"fail_names[{name!r}]: the reference pairs {code} with HTTP {documented}, not {status}"
        )


class FaultInjector:
    """Decides, per request, which fault (if any) to inject."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.faults.check()
        self._lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self._bucket_time = time.monotonic()
        self._bucket = 0.0
        self.injected: Counter[str] = Counter()  # kind -> how many times it was injected
        self._gate = threading.Condition()
        self._held = 0  # requests waiting at the gate now
        self._releases = 0  # each release() lets through every request held before it

    def update(self, changes: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(Faults)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"Unknown fault settings: {', '.join(sorted(unknown))}")
        trial = Faults(**{**asdict(self.faults), **changes})
        trial.check()
        with self._lock:
            for key, value in changes.items():  # checked together above, whatever their order
                object.__setattr__(self.faults, key, value)
            if "seed" in changes:
                self._rng = random.Random(changes["seed"])
        return self.faults

    def throttled(self) -> bool:
        """Token bucket of ``rate_limit`` requests per second, with a burst of one second."""
        rate = self.faults.rate_limit
        if rate <= 0:
            return False
        with self._lock:
            now = time.monotonic()
            self._bucket = min(rate, self._bucket + (now - self._bucket_time) * rate)
            self._bucket_time = now
            if self._bucket >= 1:
                self._bucket -= 1
                return False
            self.injected["throttled"] += 1
            return True

    def random_fault(self, method: str = "") -> str | None:
        with self._lock:
            if self.faults.fault_methods and method not in self.faults.fault_methods:
                return None
            if not self.faults.kinds or self._rng.random() >= self.faults.error_rate:
                return None
            kind = self._rng.choice(self.faults.kinds)
            self.injected[kind] += 1
            return kind

    # Longest a request waits for release(): a test that forgets it fails instead of hanging.
    HOLD_LIMIT = 30.0

    def hold_here(self) -> None:
        """Wait until :meth:`release` (or HOLD_LIMIT seconds)."""
        deadline = time.monotonic() + self.HOLD_LIMIT
        with self._gate:
            generation = self._releases
            self._held += 1
            self._gate.notify_all()
            try:
                while self._releases == generation and time.monotonic() < deadline:
                    self._gate.wait(deadline - time.monotonic())
            finally:
                if self._releases == generation:  # timed out; release() uncounts those it lets go
                    self._held -= 1
                self._gate.notify_all()

    def wait_held(self, count: int, timeout: float = 10.0) -> None:
        """Block until ``count`` requests are held; ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._gate:
            while self._held < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self._held} requests held, not {count}, after {timeout} s")
                self._gate.wait(left)

    @property
    def held(self) -> int:
        with self._gate:
            return self._held

    def release(self, keep_holding: bool = False) -> None:
        """The held requests go on; later ones are not held, unless ``keep_holding``."""
        if not keep_holding:
            with self._lock:
                self.faults.hold = []
        with self._gate:
            self._releases += 1
            self._held = 0  # at once, so that wait_held() after a release counts only new ones
            self._gate.notify_all()

    def take_drop_after(self, name: str) -> bool:
        with self._lock:
            if name in self.faults.drop_after_names:
                self.faults.drop_after_names.remove(name)
                return True
            return False
