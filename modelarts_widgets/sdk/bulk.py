"""Operations on many configs, shared by the widget and the magic: list every page, delete many.

Both run their requests on worker threads, so a notebook kernel stays free meanwhile.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Optional

from . import errors
from .estimator import CONFIGS, LIST_FIELDS, Status, delete_config, is_not_found, list_query
from .names import is_valid_config_name
from .session import Session
from .transport import Cancelled
from .trash import BACKUP_FAILED, Trash, fetch_details, trash_for

log = logging.getLogger("modelarts_widgets")

MAX_PER_PAGE = 1000
MAX_LIST_PAGES = 1000  # a million configs at 1,000 a page; a total beyond that is not believed
DEFAULT_LIST_CONCURRENCY = 10
DEFAULT_DELETE_CONCURRENCY = 8
BACKUP_READS_PER_DELETE = 2  # backup GETs in flight per DELETE in flight

# States a name goes through in a bulk delete; the last four are final.
QUEUED, BACKING_UP, BACKED_UP, DELETING, DELETED, FAILED, SKIPPED, CANCELLED = (
    "queued",
    "backing up",
    "backed up",
    "deleting",
    "deleted",
    "failed",
    "skipped",
    "cancelled",
)
FINAL_STATES = frozenset({DELETED, FAILED, SKIPPED, CANCELLED})

Config = dict[str, Any]
_LIST_KEYS = frozenset(LIST_FIELDS)


def _fetch_page(session: Session, query: list[tuple[str, object]]) -> tuple[int | None, list[Config]]:
    body = session.call("GET", CONFIGS, query=query)
    if "configs" not in body:
        raise errors.TransportError("The list answer lacks configs", errors.BAD_RESPONSE)
    # "configs": null is an empty page here as in Estimator.get_job_configs_list.
    items = body.get("configs") or []
    total = body.get("config_total_count")
    if not isinstance(items, list):
        raise errors.TransportError("The list answer's configs is not a list", errors.BAD_RESPONSE)
    configs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("config_name"), str):
            raise errors.TransportError("The list answer has a config without a name", errors.BAD_RESPONSE)
        # Extra fields are dropped (a table holds thousands); an item without any is kept as is.
        configs.append(item if item.keys() <= _LIST_KEYS else {k: item[k] for k in LIST_FIELDS if k in item})
    known = isinstance(total, int) and not isinstance(total, bool) and total >= 0
    return (total if known else None), configs


def iter_config_pages(
    session: Session,
    *,
    search_content: str | None = None,
    sort_by: str | None = None,
    order: str | None = None,
    config_type: str | None = None,
    per_page: int = MAX_PER_PAGE,
    concurrency: int = DEFAULT_LIST_CONCURRENCY,
    max_pages: int = MAX_LIST_PAGES,
    cancel: threading.Event | None = None,
) -> Iterator[list[Config]]:
    """Yield every page of configs in order: the first at once, the rest fetched concurrently.

    ``config_total_count`` is not trusted: it only says how many pages to fetch side by side.
    The listing ends at the first page shorter than ``per_page`` and after ``max_pages`` pages
    at most; a name seen on an earlier page is not yielded again (pages shift while configs
    change). Setting ``cancel`` stops it: nothing more is sent and the iterator raises
    ``Client.Cancelled``. Raises :class:`ModelArtsError` when a page cannot be fetched.
    """

    def query(page: int) -> list[tuple[str, object]]:
        return list_query(per_page, page, sort_by, order, search_content, config_type)

    if cancel is not None:
        session = session.scoped(cancel)
    total, first = _fetch_page(session, query(1))
    seen: set[str] = set()

    def fresh(configs: list[Config]) -> list[Config]:
        kept = []
        for config in configs:
            if config["config_name"] not in seen:
                seen.add(config["config_name"])
                kept.append(config)
        return kept

    yield fresh(first)
    if len(first) < per_page or max_pages <= 1:
        return
    # When the total is an exact multiple of per_page only an empty page proves the end: it is
    # fetched in the same wave as the others, so it costs no round trip.
    if total is None:
        expected = 2
    else:
        expected = min(max_pages, math.ceil(total / per_page) + (1 if total % per_page == 0 else 0))
    workers = max(1, min(concurrency, max_pages - 1))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="modelarts-list")
    pending: deque[Future[tuple[int | None, list[Config]]]] = deque()
    next_page = 2
    try:
        while True:
            # Ahead of what is read: as many pages as the total promises, else one at a time.
            while (
                next_page <= max_pages and len(pending) < workers and (next_page <= expected or not pending)
            ):
                pending.append(pool.submit(_fetch_page, session, query(next_page)))
                next_page += 1
            if not pending:
                return
            _, configs = pending.popleft().result()
            if cancel is not None and cancel.is_set():
                raise Cancelled("Listing stopped")
            yield fresh(configs)
            if len(configs) < per_page:
                return
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def list_all_configs(session: Session, **options: Any) -> list[Config]:
    """Every config of the project (see :func:`iter_config_pages` for the options)."""
    return [config for page in iter_config_pages(session, **options) for config in page]


OnStatus = Callable[[str, str, Optional[Status]], None]


class BulkDelete:
    """Delete many configs with bounded concurrency; every name ends with exactly one result.

    First, unless ``backup=False``, every chosen config's details are saved to one backup file
    in the trash (see :mod:`.trash`); a config whose backup fails is not deleted. Then the
    DELETEs run. ``on_status(name, state, result)`` is called from worker threads as each name
    moves through ``backing up`` and ``deleting`` to a final state. ``cancel()`` stops everything
    not yet sent; what is in flight finishes and reports its true outcome. Names in ``skip``
    (name -> reason) are never sent and end as ``skipped``.
    """

    def __init__(
        self,
        session: Session,
        names: Iterable[str],
        *,
        concurrency: int = DEFAULT_DELETE_CONCURRENCY,
        on_status: OnStatus | None = None,
        skip: dict[str, str] | None = None,
        backup: Trash | bool = True,
        delete: Callable[[Session, str], Status] = delete_config,
    ) -> None:
        ordered = list(dict.fromkeys(names))
        bad = [n for n in ordered if not is_valid_config_name(n)]
        if bad:
            raise errors.InvalidConfigNameError(bad[0] if len(bad) == 1 else bad)
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.session = session
        self.names: list[str] = ordered
        self.concurrency = concurrency
        # One connection per request in flight: the DELETEs, or the backup reads beside them.
        session.ensure_pool_size(concurrency * max(1, BACKUP_READS_PER_DELETE))
        self.trash = trash_for(backup)
        self.backup_path: Path | None = None
        self._on_status = on_status
        self._skip = dict(skip or {})
        self._delete = delete
        self._cancel = threading.Event()
        self._unreachable = ""
        # Every call of the run goes through this view: cancel() cuts its waits short, and an
        # unreachable endpoint stops the run instead of failing each name in turn.
        self._calls = session.scoped(self._cancel, self._stop_unreachable)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._coordinator: threading.Thread | None = None
        self._stop_reason = ""
        self.results: dict[str, Status] = {}
        self.states: dict[str, str] = dict.fromkeys(ordered, QUEUED)

    # -- reporting --------------------------------------------------------------------------

    def _set(self, name: str, state: str, result: Status | None = None) -> None:
        with self._lock:
            if self.states.get(name) in FINAL_STATES:
                return
            self.states[name] = state
            if result is not None:
                self.results[name] = result
        if self._on_status is not None:
            try:
                self._on_status(name, state, result)
            except Exception:
                log.exception("on_status callback failed for %s", name)

    # -- running ----------------------------------------------------------------------------

    def start(self) -> BulkDelete:
        """Start on a background thread and return at once."""
        if self._coordinator is not None:
            raise RuntimeError("This bulk delete has already started")
        self._coordinator = threading.Thread(target=self._run, name="modelarts-bulk-delete", daemon=True)
        self._coordinator.start()
        return self

    def _run(self) -> None:
        try:
            pending = []
            for name in self.names:
                if name in self._skip:
                    self._set(name, SKIPPED, errors.failure(errors.PROTECTED, self._skip[name]))
                else:
                    pending.append(name)
            if self.trash is not None and pending:
                pending = self._back_up(pending)
            work: queue.SimpleQueue[str] = queue.SimpleQueue()
            for name in pending:
                work.put(name)
            workers = [
                threading.Thread(target=self._work, args=(work,), name=f"modelarts-delete-{i}", daemon=True)
                for i in range(max(1, min(self.concurrency, len(pending))))
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        finally:
            self._finish()

    def _stop_unreachable(self, reason: str) -> None:
        with self._lock:
            if not self._unreachable:
                self._unreachable = reason
        self._cancel.set()

    def _back_up(self, names: list[str]) -> list[str]:
        """Save the details of ``names``; return those that may now be deleted."""
        assert self.trash is not None
        for name in names:
            self._set(name, BACKING_UP)
        # Reads are safe to run wider than deletes; 429s slow them down through Retry-After.
        found = fetch_details(
            self._calls,
            names,
            concurrency=min(BACKUP_READS_PER_DELETE * self.concurrency, self.session.pool_size),
            cancelled=self._cancel.is_set,
            on_fetched=lambda name: self._set(name, BACKED_UP),
        )
        saved = {n: d for n, d in found.items() if isinstance(d, dict)}
        for name, outcome in found.items():
            if isinstance(outcome, errors.ModelArtsError) and outcome.error_code in (
                errors.CANCELLED,
                errors.UNREACHABLE,
            ):
                continue  # nothing reached the server for it: it ends as "not sent"
            if isinstance(outcome, errors.ModelArtsError):
                if is_not_found(outcome):
                    self._set(name, FAILED, outcome.as_status())  # nothing there to delete
                else:
                    message = f"Not deleted: its backup failed ({outcome.error_code}: {outcome.error_msg})"
                    self._set(name, FAILED, errors.failure(BACKUP_FAILED, message))
        if self._cancel.is_set() or not saved:
            return []
        try:
            self.backup_path = self.trash.write(self.session, saved)
        except OSError as exc:
            message = (
                f"Not deleted: the backup file could not be written in {self.trash.folder} ({exc.strerror})"
            )
            for name in saved:
                self._set(name, FAILED, errors.failure(BACKUP_FAILED, message))
            return []
        log.info("Backed up %d configs to %s", len(saved), self.backup_path)
        return list(saved)

    def _work(self, work: queue.SimpleQueue[str]) -> None:
        while not self._cancel.is_set():
            try:
                name = work.get_nowait()
            except queue.Empty:
                break
            self._set(name, DELETING)
            try:
                result = self._delete(self._calls, name)
            except errors.ModelArtsError as exc:
                result = exc.as_status()
            except Exception as exc:  # a bug must not leave a name without a status
                log.exception("Deleting %s failed unexpectedly", name)
                result = errors.failure("Client.Error", f"Unexpected error: {type(exc).__name__}")
            if result.get("error_code") in (errors.CANCELLED, errors.UNREACHABLE):
                # Refused before it left, or stopped while waiting to resend a refused DELETE:
                # the config was not deleted. _finish gives it the run's reason.
                continue
            self._set(name, DELETED if result.get("is_success") else FAILED, result)
            if result.get("error_code") in errors.CREDENTIAL_CODES and not self._cancel.is_set():
                # Every other request would be refused the same way: send nothing more.
                self._stop_reason = f"{result['error_code']}: {result.get('error_msg', '')}"
                self._cancel.set()

    def _finish(self) -> None:
        if self._stop_reason:
            why = f"Not sent: the credentials were rejected ({self._stop_reason}); fix them and retry"
        elif self._unreachable:
            why = f"Not sent: the endpoint could not be reached ({self._unreachable})"
        else:
            why = "Not sent: the run was stopped first"
        for name in self.names:
            if self.states[name] not in FINAL_STATES:
                self._set(name, CANCELLED, errors.failure(errors.CANCELLED, why))
        self._done.set()

    def cancel(self) -> None:
        """Send nothing more; names not yet sent end as ``cancelled``."""
        self._cancel.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def finished(self) -> threading.Event:
        """Set once every name has its final status."""
        return self._done

    def wait(self, timeout: float | None = None) -> dict[str, Status]:
        """Block until every name has its result (or ``timeout``); returns the results so far.

        After :meth:`cancel`, this returns once the requests in flight have their answers (waits
        between attempts end at once); nothing is sent after it returns.
        """
        if self._coordinator is None:
            self.start()
        self._done.wait(timeout)
        return {name: self.results[name] for name in self.names if name in self.results}

    def run(self) -> dict[str, Status]:
        """Start, wait for the end, and cancel what is unsent on KeyboardInterrupt."""
        self.start()
        try:
            return self.wait()
        except KeyboardInterrupt:
            self.cancel()
            self.wait()
            raise


def delete_job_configs(
    session: Session,
    names: Sequence[str],
    *,
    concurrency: int = DEFAULT_DELETE_CONCURRENCY,
    on_status: OnStatus | None = None,
    skip: dict[str, str] | None = None,
    backup: Trash | bool = True,
) -> dict[str, Status]:
    """Delete ``names`` and return name -> the ``delete_job_configs()`` dict, in input order.

    The configs' details are saved to the trash first (``backup=False`` turns that off).
    """
    run = BulkDelete(session, names, concurrency=concurrency, on_status=on_status, skip=skip, backup=backup)
    return run.run()
