"""Operations on many configs, shared by the widget and the magic: list every page, delete many.

Both run their requests on worker threads, so a notebook kernel stays free meanwhile.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Optional

from modelarts_widgets.i18n import t

from . import errors
from .estimator import CONFIGS, LIST_FIELDS, Status, delete_config, is_not_found, list_query
from .names import is_valid_config_name
from .session import Session
from .trash import BACKUP_FAILED, Trash, fetch_details, trash_for

log = logging.getLogger("modelarts_widgets")

MAX_PER_PAGE = 1000
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


def _fetch_page(session: Session, query: list[tuple[str, object]]) -> tuple[int, list[Config]]:
    body = session.call("GET", CONFIGS, query=query)
    items, total = body.get("configs"), body.get("config_total_count")
    if not isinstance(items, list) or not isinstance(total, int):
        raise errors.TransportError(t("error.list_fields"), errors.BAD_RESPONSE)
    configs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("config_name"), str):
            raise errors.TransportError(t("error.list_nameless"), errors.BAD_RESPONSE)
        # Extra fields are dropped (a table holds thousands); an item without any is kept as is.
        configs.append(item if item.keys() <= _LIST_KEYS else {k: item[k] for k in LIST_FIELDS if k in item})
    return total, configs


def iter_config_pages(
    session: Session,
    *,
    search_content: str | None = None,
    sort_by: str | None = None,
    order: str | None = None,
    config_type: str | None = None,
    per_page: int = MAX_PER_PAGE,
    concurrency: int = DEFAULT_LIST_CONCURRENCY,
) -> Iterator[list[Config]]:
    """Yield every page of configs in order: the first at once, the rest fetched concurrently.

    A name seen on an earlier page is not yielded again (pages can shift while configs change).
    Raises :class:`ModelArtsError` when a page cannot be fetched.
    """

    def query(page: int) -> list[tuple[str, object]]:
        return list_query(per_page, page, sort_by, order, search_content, config_type)

    total, first = _fetch_page(session, query(1))
    seen = {c["config_name"] for c in first}
    yield first
    pages = math.ceil(total / per_page)
    if pages <= 1 or len(first) < per_page:
        return
    workers = max(1, min(concurrency, pages - 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="modelarts-list") as pool:
        for _, configs in pool.map(lambda p: _fetch_page(session, query(p)), range(2, pages + 1)):
            fresh = [c for c in configs if c["config_name"] not in seen]
            seen.update(c["config_name"] for c in fresh)
            yield fresh


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
        self.trash = trash_for(backup)
        self.backup_path: Path | None = None
        self._on_status = on_status
        self._skip = dict(skip or {})
        self._delete = delete
        self._cancel = threading.Event()
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

    def _back_up(self, names: list[str]) -> list[str]:
        """Save the details of ``names``; return those that may now be deleted."""
        assert self.trash is not None
        for name in names:
            self._set(name, BACKING_UP)
        # Reads are safe to run wider than deletes; 429s slow them down through Retry-After.
        found = fetch_details(
            self.session,
            names,
            concurrency=min(BACKUP_READS_PER_DELETE * self.concurrency, self.session.pool_size),
            cancelled=self._cancel.is_set,
            on_fetched=lambda name: self._set(name, BACKED_UP),
        )
        saved = {n: d for n, d in found.items() if isinstance(d, dict)}
        for name, outcome in found.items():
            if isinstance(outcome, errors.ModelArtsError) and outcome.error_code != errors.CANCELLED:
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
                result = self._delete(self.session, name)
            except errors.ModelArtsError as exc:
                result = exc.as_status()
            except Exception as exc:  # a bug must not leave a name without a status
                log.exception("Deleting %s failed unexpectedly", name)
                result = errors.failure("Client.Error", f"Unexpected error: {type(exc).__name__}")
            self._set(name, DELETED if result.get("is_success") else FAILED, result)
            if result.get("error_code") in errors.CREDENTIAL_CODES and not self._cancel.is_set():
                # Every other request would be refused the same way: send nothing more.
                self._stop_reason = f"{result['error_code']}: {result.get('error_msg', '')}"
                self._cancel.set()

    def _finish(self) -> None:
        if self._stop_reason:
            why = f"Not sent: the credentials were rejected ({self._stop_reason}); fix them and retry"
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
        """Block until every name has its result (or ``timeout``); returns the results so far."""
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
