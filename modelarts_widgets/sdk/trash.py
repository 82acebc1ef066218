"""The trash: every config's details are saved before a bulk delete, so it can be re-created.

ModelArts has no undo for deleted configs. A bulk delete appends each config's details to its
run's backup file, and the line is on disk (fsynced) before that config's DELETE is sent;
:func:`restore` re-creates them through the documented create call. A name that exists again is
skipped, never overwritten.

The file format (``modelarts-widgets/config-backup@2``, ``backup-<UTC time>-<random>.jsonl``) is
JSON lines. The first line is the header::

    {"format": "modelarts-widgets/config-backup@2", "version": 2, "project_id": "...",
     "region": "...", "endpoint": "host[:port]", "created_at": "ISO 8601, UTC",
     "tool_version": "..."}

then one line per config: ``{"config_name": "...", "details": {...the details call's answer}}``.
No credential is ever written. Files are created 0600 (``O_CREAT|O_EXCL|O_NOFOLLOW``) in a 0700
folder. Files of the first format (one JSON object, ``backup-*.json``) are still listed and
restored.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; retention may then remove a file in use
    fcntl = None  # type: ignore[assignment]
from modelarts_widgets.i18n import t

from . import configs as contract
from . import errors, settings
from .configs import Status
from .names import is_valid_config_name
from .session import Session
from .states import RESTORE_FINAL_STATES

log = logging.getLogger("modelarts_widgets")

TRASH_ENV = settings.TRASH_DIR
KEEP_DAYS_ENV = settings.TRASH_KEEP_DAYS
KEEP_FILES_ENV = settings.TRASH_KEEP_FILES
DEFAULT_KEEP_DAYS = 30.0
DEFAULT_KEEP_FILES = 100
FORMAT = "modelarts-widgets/config-backup@1"  # one JSON object per run (still restored)
FORMAT_LINES = "modelarts-widgets/config-backup@2"  # JSON lines: a header, then one per config
FORMAT_VERSION = 2
SUFFIXES = (".jsonl", ".json")
MAX_BACKUP_BYTES = 64 * 2**20  # a bigger file is refused before it is read
HEADER_MAX_BYTES = 64 * 2**10  # what listing reads of each file
DEFAULT_RESTORE_CONCURRENCY = 16  # configs at once; each costs two requests (is it there? create)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

# Defined in .errors; importable from here too.
EXISTS, BACKUP_FAILED, BAD_ENTRY, NOT_IN_BACKUP, OTHER_PROJECT = (
    errors.EXISTS,
    errors.BACKUP_FAILED,
    errors.BAD_ENTRY,
    errors.NOT_IN_BACKUP,
    errors.OTHER_PROJECT,
)


def create_body(details: Mapping[str, Any]) -> dict[str, Any]:
    """The create call's body for a config whose details were saved (see :func:`.configs.create_body`).

    The API takes one data source. Details can show two views of the same one (``data_url`` and
    a one-entry ``data_source`` that repeats it); then the simple form is sent, otherwise
    ``data_source``, else the dataset ids, else ``data_url``. Empty values are left out, so the
    server applies its defaults again.
    """
    return contract.create_body(details)


def _host(endpoint: str) -> str:
    """The endpoint's host (and port), never its user info, path or query."""
    try:
        parts = urlsplit(endpoint)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return ""
    return f"{host}:{port}" if port else host


def _parse_time(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _open_regular(path: Path) -> int:
    """Open ``path`` for reading, refusing symlinks and anything but a regular file."""
    # O_NONBLOCK: a FIFO named like a backup must not hang the kernel on open.
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(t("trash.not_regular", path=path))
        if info.st_size > MAX_BACKUP_BYTES:
            raise ValueError(
                t(
                    "trash.too_big",
                    file=path.name,
                    size=f"{info.st_size / 2**20:.0f}",
                    limit=MAX_BACKUP_BYTES // 2**20,
                )
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_head(path: Path) -> bytes:
    fd = _open_regular(path)
    try:
        return os.read(fd, HEADER_MAX_BYTES)
    finally:
        os.close(fd)


# An old (@1) file is one JSON object written with these keys first, so its header is the start.
_OLD_FIELD = re.compile(rb'"(format|created_at|project_id|region|endpoint)":\s*("(?:[^"\\]|\\.)*")')


def _first_format_header(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The header of a backup in the first format (one JSON document), as BackupInfo fields."""
    return {
        "created_at": str(fields.get("created_at", "")),
        "project_id": str(fields.get("project_id", "")),
        "region": str(fields.get("region", "")),
        "endpoint": _host(str(fields.get("endpoint", ""))),
        "version": 1,
    }


@dataclass(frozen=True)
class BackupInfo:
    """A backup file's header: what listing the trash reads (never the configs themselves).

    ``created_at`` is the ISO 8601 time the run started (UTC); ``endpoint`` is the host only.
    """

    path: Path
    created_at: str
    project_id: str
    region: str
    endpoint: str = ""
    version: int = FORMAT_VERSION
    tool_version: str = ""
    empty: bool = False  # a header and no config (a run stopped before its first backup)

    @property
    def created(self) -> datetime | None:
        return _parse_time(self.created_at)

    def same_project(self, session: Session) -> bool:
        """True when the backup was made for ``session``'s project and region."""
        return self.project_id == session.project_id and self.region == (session.region_name or "")

    @classmethod
    def read(cls, path: str | Path) -> BackupInfo:
        """Read only the header of ``path``; raises ``ValueError`` or ``OSError`` if it is not one."""
        path = Path(path)
        head = _read_head(path)
        if head.lstrip().startswith(b'{"format": "' + FORMAT_LINES.encode()):
            line, _, rest = head.partition(b"\n")
            try:
                data = json.loads(line)
            except ValueError:
                raise ValueError(t("trash.damaged_header", file=path.name)) from None
            info = cls._from_header(path, data)
            return replace(info, empty=not rest.strip())
        before_configs = head[:4096].split(b'"configs"', 1)[0]
        fields = {k.decode(): json.loads(v) for k, v in _OLD_FIELD.findall(before_configs)}
        if fields.get("format") != FORMAT:
            raise ValueError(t("trash.not_backup", file=path.name))
        return cls(path=path, **_first_format_header(fields))

    @classmethod
    def _from_header(cls, path: Path, data: Any) -> BackupInfo:
        if not isinstance(data, dict) or data.get("format") != FORMAT_LINES:
            raise ValueError(t("trash.not_backup", file=path.name))
        version = data.get("version", FORMAT_VERSION)
        if isinstance(version, bool) or not isinstance(version, int):
            raise ValueError(t("trash.damaged_header_version", file=path.name, version=repr(version)))
        return cls(
            path=path,
            created_at=str(data.get("created_at", "")),
            project_id=str(data.get("project_id", "")),
            region=str(data.get("region", "")),
            endpoint=str(data.get("endpoint", "")),
            version=version,
            tool_version=str(data.get("tool_version", "")),
        )


@dataclass(frozen=True)
class BackupFile(BackupInfo):
    """One run's backup, read whole and checked entry by entry.

    ``configs`` maps name -> saved details for the entries that are sound; ``problems`` maps
    the label of each unsound entry (its name, or ``line N``) -> why it cannot be restored: not
    a config dict, a ``config_name`` that differs from its key, or an invalid name.
    """

    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> BackupFile:
        """Read and check a backup file of either format (at most ``MAX_BACKUP_BYTES``).

        Raises ``ValueError`` when the file is not a backup file at all (or is too big, a
        symlink, unreadable); a bad entry only lands in ``problems``.
        """
        path = Path(path)
        try:
            fd = _open_regular(path)
            with os.fdopen(fd, "rb") as stream:
                raw = stream.read(MAX_BACKUP_BYTES + 1)
        except OSError as exc:
            raise ValueError(t("trash.unreadable", file=path, reason=exc.strerror or exc)) from None
        if raw.lstrip().startswith(b'{"format": "' + FORMAT_LINES.encode()):
            return cls._load_lines(path, raw)
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise ValueError(t("trash.unreadable", file=path, reason=type(exc).__name__)) from None
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or not isinstance(data.get("configs"), dict)
        ):
            raise ValueError(t("trash.not_backup", file=path))
        configs: dict[str, dict[str, Any]] = {}
        problems: dict[str, str] = {}
        for key, entry in data["configs"].items():
            _check_entry(key, entry, configs, problems)
        return cls(
            path=path,
            **_first_format_header(data),
            configs=configs,
            problems=problems,
        )

    @classmethod
    def _load_lines(cls, path: Path, raw: bytes) -> BackupFile:
        lines = raw.split(b"\n")
        try:
            info = BackupInfo._from_header(path, json.loads(lines[0]))
        except ValueError:
            raise ValueError(t("trash.damaged_header", file=path)) from None
        configs: dict[str, dict[str, Any]] = {}
        problems: dict[str, str] = {}
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                # Only a run that stopped mid-line leaves this; its config was never deleted.
                problems[f"line {number}"] = t("trash.damaged_line")
                continue
            if not isinstance(entry, dict) or "config_name" not in entry:
                problems[f"line {number}"] = t("trash.not_entry")
                continue
            _check_entry(entry["config_name"], entry.get("details"), configs, problems)
        return cls(**{**info.__dict__, "configs": configs, "problems": problems})


def _check_entry(key: Any, entry: Any, configs: dict[str, dict[str, Any]], problems: dict[str, str]) -> None:
    label = key if isinstance(key, str) else repr(key)
    if not is_valid_config_name(key):
        problems[label] = t("trash.invalid_name", name=repr(label))
    elif not isinstance(entry, dict):
        problems[label] = t("trash.entry_kind", kind=_json_kind(entry))
    elif entry.get("config_name") != key:
        problems[label] = t("trash.other_details", other=repr(entry.get("config_name")), name=key)
    else:
        configs[key] = entry


def entry_problem(name: str, details: Any) -> str | None:
    """Why restore would refuse ``details`` saved for ``name`` (None when it would take it)."""
    problems: dict[str, str] = {}
    _check_entry(name, details, {}, problems)
    return next(iter(problems.values()), None)


def _json_kind(value: Any) -> str:
    kinds = {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


class UnsafeTrashError(PermissionError):
    """The trash folder cannot be made private (another user's, or its mode cannot be set)."""


class BackupWriter:
    """One run's backup file, open for appending; each :meth:`append` is on disk when it returns.

    Created by :meth:`Trash.create`. Thread-safe: appends from many threads share fsyncs (one
    fsync covers every line written before it). After a failed write or fsync every later append
    fails, and a line that would take the file over ``MAX_BACKUP_BYTES`` is refused, so a line
    that :meth:`append` reports on disk is always one that restore can read.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.count = 0
        self._fd = fd
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0
        self._synced = 0
        self._size = 0
        self._failed: OSError | None = None

    def _check(self) -> None:
        if self._failed is not None:
            raise OSError(
                self._failed.errno or errno.EIO,
                t("trash.earlier_write_failed", reason=self._failed.strerror or self._failed),
            )

    def _write(self, data: bytes) -> int:
        with self._lock:
            self._check()
            if self._size + len(data) > MAX_BACKUP_BYTES:
                # A bigger file would be refused by restore: whatever it holds could not come back.
                raise OSError(
                    errno.EFBIG,
                    t("trash.file_would_be_too_big", mb=f"{MAX_BACKUP_BYTES / 2**20:g}"),
                )
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError as exc:
                # A torn line may be on disk: a line appended after it would be glued to it and
                # unreadable, so this file takes nothing more.
                self._failed = exc
                raise
            self._size += len(data)
            self._written += 1
            return self._written

    def _sync(self, upto: int) -> None:
        with self._sync_lock:
            if self._synced >= upto:
                return
            self._check()
            with self._lock:
                target = self._written
            try:
                os.fsync(self._fd)
            except OSError as exc:
                # Lines written before may be lost, and a later fsync would not say so.
                self._failed = exc
                raise
            self._synced = target

    def append(self, name: str, details: Mapping[str, Any]) -> None:
        """Write ``details`` of ``name`` as one line and fsync it; raises ``OSError`` on failure."""
        entry = {"config_name": name, "details": dict(details)}
        try:
            data = json.dumps(entry, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (JSON allows "\udce9"): keep it escaped
            data = json.dumps(entry).encode("ascii")
        self._sync(self._write(data + b"\n"))
        with self._lock:
            self.count += 1

    def close(self, *, remove_if_empty: bool = True) -> None:
        """Close the file; a file that holds no config is removed (it could restore nothing)."""
        with self._lock:
            if self._fd < 0:
                return
            os.close(self._fd)
            self._fd = -1
        if remove_if_empty and self.count == 0:
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def __enter__(self) -> BackupWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Trash:
    """A private folder of backup files, with retention (default ``~/.modelarts_widgets/trash``).

    The folder is created with mode 0700 and each file with 0600, whatever the umask; an
    existing folder that others may read is tightened to 0700, and one owned by another user is
    refused (:class:`UnsafeTrashError`). ``$MODELARTS_TRASH_DIR`` moves it.
    """

    def __init__(
        self,
        folder: str | Path | None = None,
        *,
        keep_days: float | None = None,
        keep_files: int | None = None,
    ) -> None:
        self.folder = Path(
            folder or settings.get(TRASH_ENV) or Path.home() / ".modelarts_widgets" / "trash"
        ).expanduser()
        if keep_days is None:
            keep_days = _setting(KEEP_DAYS_ENV, DEFAULT_KEEP_DAYS, float)
        if keep_files is None:
            keep_files = _setting(KEEP_FILES_ENV, DEFAULT_KEEP_FILES, int)
        self.keep_days = keep_days
        self.keep_files = keep_files

    def __repr__(self) -> str:
        return f"Trash({str(self.folder)!r})"

    def ensure_private(self) -> None:
        """Create the folder (0700, with missing parents 0700) or make an existing one private.

        Raises :class:`UnsafeTrashError` for a folder of another user, one that others use (sticky
        bit, like /tmp, or holding files other than backups: it is not made private then) or one
        whose mode cannot be set, ``OSError`` when it cannot be created.
        """
        missing = []
        for folder in (self.folder, *self.folder.parents):
            if os.path.lexists(folder):
                break
            missing.append(folder)
        for folder in reversed(missing):
            try:
                os.mkdir(folder, 0o700)
            except FileExistsError:
                continue
            # The umask can only take bits away from 0700, and one that takes the owner's (0277)
            # would leave a folder that nothing can be made in: set it while it is still empty.
            os.chmod(folder, 0o700)
        info = os.stat(self.folder)
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(t("trash.not_folder", folder=self.folder))
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise UnsafeTrashError(
                t("trash.other_user", folder=self.folder, uid=info.st_uid, variable=f"${TRASH_ENV}")
            )
        if stat.S_IMODE(info.st_mode) != 0o700:
            if _shared(self.folder, info):
                # Making a folder private that others use (/tmp, a team's folder) would break it.
                raise UnsafeTrashError(
                    t(
                        "trash.shared_folder",
                        folder=self.folder,
                        mode=f"{stat.S_IMODE(info.st_mode):o}",
                        variable=f"${TRASH_ENV}",
                        example=self.folder / "modelarts-trash",
                    )
                )
            try:
                os.chmod(self.folder, 0o700)
            except OSError as exc:
                raise UnsafeTrashError(
                    t(
                        "trash.not_private",
                        folder=self.folder,
                        mode=f"{stat.S_IMODE(info.st_mode):o}",
                        reason=exc.strerror,
                        variable=f"${TRASH_ENV}",
                    )
                ) from None
            if stat.S_IMODE(info.st_mode) & 0o077:
                log.warning(
                    "The trash %s was readable by others (mode %o); it is now 0700",
                    self.folder,
                    stat.S_IMODE(info.st_mode),
                )

    def create(self, session: Session) -> BackupWriter:
        """Start a new backup file (header written and on disk) for one run against ``session``."""
        self.ensure_private()
        now = datetime.now(timezone.utc)
        path = self.folder / f"backup-{now:%Y%m%dT%H%M%S-%f}-{secrets.token_hex(3)}.jsonl"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | getattr(os, "O_APPEND", 0)
        fd = os.open(path, flags, 0o600)
        try:
            _lock(fd, shared=True)  # while it is open, no run's pruning removes it
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # before any byte: an odd umask (0277) must not leave it 0400
            header = {
                "format": FORMAT_LINES,
                "version": FORMAT_VERSION,
                "project_id": session.project_id,
                "region": session.region_name or "",
                "endpoint": _host(session.endpoint),
                "created_at": now.isoformat(timespec="microseconds"),
                "tool_version": _tool_version(),
            }
            writer = BackupWriter(path, fd)
            writer._sync(writer._write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n"))
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        _fsync_folder(self.folder)
        return writer

    def write(self, session: Session, configs: Mapping[str, Mapping[str, Any]]) -> Path:
        """Save ``configs`` (name -> details) as a new backup file, then prune old files."""
        with self.create(session) as writer:
            for name, details in configs.items():
                writer.append(name, details)
        self.prune(keep=writer.path)
        return writer.path

    def _candidates(self) -> list[Path]:
        """Regular backup-* files of the folder; symlinks and anything else are left out."""
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return []
        return [
            Path(entry.path)
            for entry in entries
            if entry.name.startswith("backup-")
            and entry.name.endswith(SUFFIXES)
            and entry.is_file(follow_symlinks=False)
        ]

    def headers(self, session: Session | None = None) -> list[BackupInfo]:
        """Readable backup files' headers, newest recorded time first (only headers are read).

        With ``session``, only backups made for its project and region.
        """
        found = []
        for path in self._candidates():
            try:
                info = BackupInfo.read(path)
            except (OSError, ValueError) as exc:
                log.debug("Trash: skipped %s (%s)", path.name, exc)
                continue
            if info.created is None or info.empty:
                continue
            if session is not None and not info.same_project(session):
                continue
            found.append(info)
        return sorted(found, key=lambda i: (i.created, i.path.name), reverse=True)

    def files(self) -> list[Path]:
        """Backup files, newest recorded time first (symlinks and unreadable files left out)."""
        return [info.path for info in self.headers()]

    def latest(self, session: Session | None = None) -> Path:
        """The newest backup by its recorded time, for ``session``'s project and region.

        Raises ``FileNotFoundError`` when there is none.
        """
        found = self.headers(session)
        if not found:
            if session:
                message = t(
                    "trash.none_for_project",
                    project=session.project_id,
                    region=session.region_name,
                    folder=self.folder,
                )
            else:
                message = t("trash.none", folder=self.folder)
            raise FileNotFoundError(message)
        return found[0].path

    def prune(self, keep: Path | None = None) -> list[Path]:
        """Remove files older than ``keep_days`` or beyond the newest ``keep_files`` (by mtime).

        Never ``keep`` (default: the newest backup by recorded time); symlinks and files not
        named ``backup-*`` are left alone.
        """
        dated = []
        for path in self._candidates():
            try:
                dated.append((path.lstat().st_mtime, path))
            except OSError:
                continue
        dated.sort(key=lambda item: (item[0], item[1].name), reverse=True)
        cutoff = time.time() - self.keep_days * 86_400
        newest = keep or next(iter(self.files()), None)
        removed = []
        for index, (mtime, path) in enumerate(dated):
            if path == newest:
                continue
            if (index >= self.keep_files or mtime < cutoff) and _remove_unless_open(path):
                removed.append(path)
        return removed


def _lock(fd: int, *, shared: bool) -> bool:
    """Take a lock on an open file without waiting; False when another holder has it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks: nothing to learn, nothing to refuse
        return True
    return True


def _remove_unless_open(path: Path) -> bool:
    """Remove a backup file unless a run (of any process) is still writing it."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return False
    except OSError:
        path.unlink(missing_ok=True)  # not openable (a FIFO, unreadable): no run writes it
        return True
    try:
        if not _lock(fd, shared=False):
            return False
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


def _shared(folder: Path, info: os.stat_result) -> bool:
    """True for a folder others use: sticky (like /tmp), or holding anything but backups."""
    if info.st_mode & stat.S_ISVTX:
        return True
    try:
        return any(not name.startswith("backup-") for name in os.listdir(folder))
    except OSError:
        return False


def _fsync_folder(folder: Path) -> None:
    """Make a new file's name durable too (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _setting(name: str, default: Any, kind: Callable[[str], Any]) -> Any:
    """A retention setting from the environment; ``ValueError`` naming it when it is no count."""
    raw = (settings.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < 0:
        key = "trash.bad_keep_days" if kind is float else "trash.bad_keep_files"
        raise ValueError(t(key, variable=f"${name}", value=repr(raw)))
    return value


def _tool_version() -> str:
    try:
        return metadata.version("modelarts_widgets")
    except metadata.PackageNotFoundError:
        return ""


def trash_for(backup: Trash | bool) -> Trash | None:
    """The trash a ``backup=`` option means: True for the default one, False for none."""
    return Trash() if backup is True else (backup or None)


def restore(
    session: Session,
    backup: str | Path | BackupFile,
    names: Iterable[str] | None = None,
    *,
    concurrency: int = DEFAULT_RESTORE_CONCURRENCY,
    on_result: Callable[[str, Status], None] | None = None,
    allow_other_project: bool = False,
    trash: Trash | None = None,
) -> dict[str, Status]:
    """Re-create configs from a backup file; name -> the same result dict as the other calls.

    ``backup`` is a path, a loaded :class:`BackupFile` or ``"latest"`` (the newest backup of
    ``session``'s project and region in ``trash``, default ``Trash()``). ``names`` limits it to
    some of the file's configs. A config whose name exists again is skipped with
    ``Client.Exists``; it is never overwritten. An unsound entry of the file fails its name
    (``Client.BadBackupEntry``); the others are restored. ``on_result(name, result)`` is called
    (from worker threads) as each name finishes. Runs as a :class:`~.restore.BulkRestore`.

    Raises ``ValueError`` for a file that is not a backup, or one made for another project or
    region unless ``allow_other_project=True``; ``FileNotFoundError`` when ``"latest"`` finds
    none; :class:`InvalidConfigNameError` for an invalid name in ``names`` (other than the label
    of one of the file's unsound entries, which fails like one). Nothing is sent then.
    """
    from .restore import BulkRestore

    def on_status(name: str, state: str, result: Status | None) -> None:
        if on_result is not None and result is not None and state in RESTORE_FINAL_STATES:
            on_result(name, result)

    job = BulkRestore(
        session,
        backup,
        names,
        concurrency=concurrency,
        on_status=on_status,
        allow_other_project=allow_other_project,
        trash=trash,
    )
    return job.run()
