"""Operations on many configs, shared by the widget and the magic: list every page, delete many.

Both run their requests on worker threads, so a notebook kernel stays free meanwhile.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from modelarts_widgets.i18n import t

from . import errors
from .configs import CONFIGS, LIST_FIELDS, Status, config_path, delete_config, is_not_found, list_query
from .errors import BACKUP_FAILED
from .jobs import Job, OnStatus
from .names import is_valid_config_name
from .session import Session
from .states import (
    ALREADY_GONE,
    BACKED_UP,
    BACKING_UP,
    DELETE_FINAL_STATES,
    DELETED,
    DELETING,
    FAILED,
    SKIPPED,
)
from .text import visible
from .throttle import InFlightGate
from .transport import Cancelled
from .trash import BackupWriter, Trash, entry_problem, trash_for

log = logging.getLogger("modelarts_widgets")

MAX_PER_PAGE = 1000
MAX_LIST_PAGES = 1000  # a million configs at 1,000 a page; a total beyond that is not believed
DEFAULT_LIST_CONCURRENCY = 10
DEFAULT_DELETE_CONCURRENCY = 10  # DELETEs in flight; the adaptive throttle slows them for a gateway limit
BACKUP_READS_PER_DELETE = 2  # at most this many backup GETs in flight per DELETE in flight
READ_AHEAD_PER_DELETE = 4  # backed-up names waiting for a DELETE, per DELETE in flight

# The states a name goes through here (defined in .states; importable from here too).
FINAL_STATES = DELETE_FINAL_STATES
GONE: Status = {"is_success": True, "already_gone": True}

Config = dict[str, Any]
_LIST_KEYS = frozenset(LIST_FIELDS)


def _fetch_page(session: Session, query: list[tuple[str, object]]) -> tuple[int | None, list[Config]]:
    body = session.call("GET", CONFIGS, query=query)
    if "configs" not in body:
        raise errors.TransportError(t("error.list_fields"), errors.BAD_RESPONSE)
    # "configs": null is an empty page here as in Estimator.get_job_configs_list.
    items = body.get("configs") or []
    total = body.get("config_total_count")
    if not isinstance(items, list):
        raise errors.TransportError(t("error.list_configs_type"), errors.BAD_RESPONSE)
    configs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("config_name"), str):
            raise errors.TransportError(t("error.list_nameless"), errors.BAD_RESPONSE)
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
    at most; a name already seen, on an earlier page or the same one, is not yielded again
    (pages shift while configs change). Setting ``cancel`` stops it: nothing more is sent and
    the iterator raises ``Client.Cancelled``. Raises :class:`ModelArtsError` when a page cannot
    be fetched.
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
                # Each fetch runs in a copy of this context: its errors speak the caller's language (i18n).
                context = contextvars.copy_context()
                pending.append(pool.submit(context.run, _fetch_page, session, query(next_page)))
                next_page += 1
            if not pending:
                return
            _, configs = _result(pending.popleft())
            if cancel is not None and cancel.is_set():
                raise Cancelled(t("bulk.listing_stopped"))
            yield fresh(configs)
            if len(configs) < per_page:
                return
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def _result(future: Future[tuple[int | None, list[Config]]]) -> tuple[int | None, list[Config]]:
    """``future.result()``, polled: the listing may run on a kernel's main thread, where a Ctrl-C
    that comes as interrupt_main() (a kernel's interrupt message) wakes no blocked wait."""
    while True:
        try:
            return future.result(timeout=0.1)
        except FutureTimeout:
            pass


def list_all_configs(session: Session, **options: Any) -> list[Config]:
    """Every config of the project (see :func:`iter_config_pages` for the options)."""
    return [config for page in iter_config_pages(session, **options) for config in page]


def delete_tolerating_gone(session: Session, name: str) -> Status:
    """:func:`delete_config` for the bulk paths: "not found" counts as ``already_gone`` success."""
    return delete_config(session, name, gone_ok=True)


def _gate(view: Session) -> InFlightGate:
    assert view.gate is not None  # a view made with in_flight=...
    return view.gate


class BulkDelete(Job):
    """Delete many configs with bounded concurrency; every name ends with exactly one result.

    Unless ``backup=False``, each config is pipelined: its details are read, appended to the
    run's backup file in the trash (see :mod:`.trash`) and fsynced, and only then is its DELETE
    queued; a config whose backup fails is not deleted. Reads run ahead of the deletes in their
    own bounded pool, so the DELETEs keep their full ``concurrency`` busy. ``backup_path`` is
    the file (None when nothing was backed up). ``on_status(name, state, result)`` is called
    from worker threads as each name moves through ``backing up``, ``backed up`` and
    ``deleting`` to a final state. ``cancel()`` stops everything
    not yet sent; what is in flight finishes and reports its true outcome. Names in ``skip``
    (name -> reason) are never sent and end as ``skipped``. A name outside the documented
    pattern is never sent either: it ends as ``failed`` with ``Client.InvalidName`` and the rest
    run. A config that is not there (a DELETE or its backup read answered "not found", whoever
    removed it) ends as ``already gone`` with ``{"is_success": True, "already_gone": True}``.
    ``backed_up`` lists the names saved in ``backup_path``.
    """

    FINAL_STATES = DELETE_FINAL_STATES
    KIND = "delete"
    THREAD_NAME = "modelarts-bulk-delete"
    STOPPED_KEY = "bulk.stopped"
    STARTED_KEY = "bulk.started"
    GATED = True

    def __init__(
        self,
        session: Session,
        names: Iterable[str],
        *,
        concurrency: int = DEFAULT_DELETE_CONCURRENCY,
        on_status: OnStatus | None = None,
        skip: dict[str, str] | None = None,
        backup: Trash | bool = True,
    ) -> None:
        super().__init__(session, list(dict.fromkeys(names)), concurrency, on_status)
        # One connection per request in flight: the DELETEs and, beside them, the backup reads,
        # which get twice as many so that a read waiting out a Retry-After never starves the DELETEs.
        session.ensure_pool_size(concurrency * (1 + BACKUP_READS_PER_DELETE))
        self.trash = trash_for(backup)
        self.backup_path: Path | None = None
        self.backed_up: list[str] = []
        self._skip = dict(skip or {})
        # Each pool keeps its own number of requests in flight (a worker waiting out a
        # Retry-After frees its slot for another, which is why each pool runs more workers than
        # slots): self._calls (GATED) for the DELETEs, a view of its own for the reads.
        self._read_calls = self._view(self._read_concurrency())
        self._delete_gate = _gate(self._calls)
        self._read_gate = _gate(self._read_calls)

    def _run(self) -> None:
        writer: BackupWriter | None = None
        try:
            pending = []
            for name in self.names:
                if name in self._skip:
                    self._skip_one(name)
                elif not is_valid_config_name(name):
                    message = t("bulk.invalid_name", name=repr(visible(name)))
                    self._set(name, FAILED, errors.failure(errors.INVALID_NAME, message))
                else:
                    pending.append(name)
            if not pending:
                return
            ready: queue.Queue[str | None] = queue.Queue()
            readers: list[threading.Thread] = []
            if self.trash is None:
                for name in pending:
                    ready.put(name)
            else:
                writer = self._open_backup(pending)
                if writer is None:
                    return
                # Reads run ahead of the deletes in their own pool, but not too far: what is
                # read and not yet deleted when the run stops was backed up for nothing.
                ready = queue.Queue(maxsize=READ_AHEAD_PER_DELETE * self.concurrency)
                reads: queue.SimpleQueue[str] = queue.SimpleQueue()
                for name in pending:
                    reads.put(name)
                readers = [
                    threading.Thread(
                        target=contextvars.copy_context().run,  # in the starter's language (i18n)
                        args=(self._read_work, reads, ready, writer),
                        name=f"modelarts-backup-{i}",
                        daemon=True,
                    )
                    for i in range(max(1, min(self._read_concurrency() + self._spares(), len(pending))))
                ]
            deleters = [
                threading.Thread(
                    target=contextvars.copy_context().run,
                    args=(self._work, ready),
                    name=f"modelarts-delete-{i}",
                    daemon=True,
                )
                for i in range(max(1, min(self.concurrency + self._spares(), len(pending))))
            ]
            for worker in readers + deleters:
                worker.start()
            for worker in readers:
                worker.join()
            for _ in deleters:  # one end mark per delete worker, after every backed-up name
                self._put(ready, None, force=True)
            for worker in deleters:
                worker.join()
        finally:
            if writer is not None:
                self._close_backup(writer)
            self._finish()

    def _skip_one(self, name: str) -> None:
        self._set(name, SKIPPED, errors.failure(errors.PROTECTED, self._skip[name]))

    def _finish(self) -> None:
        # A name in skip is never sent, stopped or not: it ends skipped, not "not sent".
        for name in self.names:
            if name in self._skip:
                self._skip_one(name)
        super()._finish()

    def _read(self, name: str) -> dict[str, Any]:
        try:
            return self._read_calls.call("GET", config_path(name))
        finally:
            self._read_gate.release()  # an attempt that ended without an answer kept its slot

    def _delete_one(self, name: str) -> Status:
        try:
            return delete_tolerating_gone(self._calls, name)
        finally:
            self._delete_gate.release()

    def _spares(self) -> int:
        """Workers beyond a pool's slots, to send while others wait out a Retry-After."""
        return max(1, self.concurrency // 2)

    def _read_concurrency(self) -> int:
        """Backup reads in flight: as many as the deletes, more when the connection pool has room."""
        room = self.session.pool_size - self.concurrency
        return max(1, min(BACKUP_READS_PER_DELETE * self.concurrency, max(room, self.concurrency)))

    def _open_backup(self, names: list[str]) -> BackupWriter | None:
        assert self.trash is not None
        try:
            writer = self.trash.create(self.session)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            message = t("bulk.backup_file_failed", folder=self.trash.folder, reason=reason)
            for name in names:
                self._set(name, FAILED, errors.failure(BACKUP_FAILED, message))
            return None
        self.backup_path = writer.path
        return writer

    def _close_backup(self, writer: BackupWriter) -> None:
        assert self.trash is not None
        try:
            writer.close()
            if writer.count:
                log.info("Backed up %d configs to %s", writer.count, writer.path)
                self.trash.prune(keep=writer.path)
            else:
                self.backup_path = None
        except OSError as exc:
            log.warning("Closing the backup file %s failed: %s", writer.path, exc)

    def _put(self, ready: queue.Queue[str | None], item: str | None, *, force: bool = False) -> bool:
        """Hand ``item`` to the deletes; give up (False) if the run stops while the queue is full."""
        while force or not self._cancel.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                if force and self._cancel.is_set():
                    with contextlib.suppress(queue.Empty):
                        ready.get_nowait()  # nothing more will be deleted: make room for the end mark
        return False

    def _read_work(
        self, reads: queue.SimpleQueue[str], ready: queue.Queue[str | None], writer: BackupWriter
    ) -> None:
        """Read a config's details, append them to the backup (on disk), then queue its DELETE."""
        while not self._cancel.is_set():
            try:
                name = reads.get_nowait()
            except queue.Empty:
                break
            self._set(name, BACKING_UP)
            try:
                details = self._read(name)
            except errors.ModelArtsError as exc:
                if exc.error_code in (errors.CANCELLED, errors.UNREACHABLE):
                    continue  # nothing reached the server for it: it ends as "not sent"
                if is_not_found(exc):
                    self._set(name, ALREADY_GONE, dict(GONE))  # nothing there to delete
                elif exc.error_code in errors.CREDENTIAL_CODES:
                    self._set(name, FAILED, exc.as_status())
                    self._stop(exc.as_status())
                else:
                    message = t("bulk.backup_failed", error=f"{exc.error_code}: {exc.error_msg}")
                    self._set(name, FAILED, errors.failure(BACKUP_FAILED, message))
                continue
            except Exception as exc:  # a bug must not leave a name without a status
                log.exception("Reading %s for its backup failed unexpectedly", visible(name))
                message = t("bulk.backup_failed_unexpected", error=type(exc).__name__)
                self._set(name, FAILED, errors.failure(BACKUP_FAILED, message))
                continue
            details.pop("is_success", None)
            problem = entry_problem(name, details)
            if problem is not None:  # restore would refuse this entry: it is no backup
                message = t("bulk.details_not_restorable", problem=problem)
                self._set(name, FAILED, errors.failure(BACKUP_FAILED, message))
                continue
            try:
                writer.append(name, details)
            except Exception as exc:  # not on disk, whatever the reason: not deleted
                reason = exc.strerror if isinstance(exc, OSError) else None
                reason = reason or f"{type(exc).__name__}: {exc}"
                message = t("bulk.backup_write_failed", path=writer.path, reason=reason)
                self._set(name, FAILED, errors.failure(BACKUP_FAILED, message))
                continue
            with self._lock:
                self.backed_up.append(name)
            self._set(name, BACKED_UP)
            if not self._put(ready, name):
                break

    def _work(self, ready: queue.Queue[str | None]) -> None:
        # A slot is taken before a name: a name is "deleting" only once its DELETE can go.
        while self._delete_gate.hold(self._cancel) and not self._cancel.is_set():
            try:
                name = ready.get(timeout=0.05)
            except queue.Empty:
                continue
            if name is None:
                break
            self._set(name, DELETING)
            try:
                result = self._delete_one(name)
            except errors.ModelArtsError as exc:
                result = exc.as_status()
            except Exception as exc:  # a bug must not leave a name without a status
                log.exception("Deleting %s failed unexpectedly", visible(name))
                result = errors.failure(errors.UNEXPECTED, t("error.unexpected", error=type(exc).__name__))
            if result.get("error_code") in (errors.CANCELLED, errors.UNREACHABLE):
                # Refused before it left, or stopped while waiting to resend a refused DELETE:
                # the config was not deleted. _finish gives it the run's reason.
                continue
            if result.get("is_success"):
                state = ALREADY_GONE if result.get("already_gone") else DELETED
            else:
                state = FAILED
            self._set(name, state, result)
            if result.get("error_code") in errors.CREDENTIAL_CODES:
                self._stop(result)
        self._delete_gate.release()


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

    The configs' details are saved to the trash first (``backup=False`` turns that off). A
    config that is not there is ``{"is_success": True, "already_gone": True}``; an invalid name
    fails alone (``Client.InvalidName``), see :class:`BulkDelete`.
    """
    run = BulkDelete(session, names, concurrency=concurrency, on_status=on_status, skip=skip, backup=backup)
    return run.run()
