"""``%modelarts_delete``: choose training-job configs from one line, preview them, delete them.

Registered by ``%load_ext modelarts_widgets``; importing this module has no side effects.
"""

from __future__ import annotations

import contextlib
import math
import queue
import shlex
import sys
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .choose import choose_configs, protect_patterns, protected_names
from .i18n import WideHelpFormatter, argument_error, ljust, t, width
from .report import DeletionReport, RestoreReport
from .sdk import errors, states
from .sdk.bulk import DEFAULT_DELETE_CONCURRENCY, BulkDelete, list_all_configs
from .sdk.configs import Status, config_exists
from .sdk.errors import ModelArtsError
from .sdk.jobs import Job, polled_wait
from .sdk.names import is_valid_config_name
from .sdk.restore import BulkRestore
from .sdk.session import Session
from .sdk.text import visible
from .sdk.trash import Trash

# The marks are the report's outcome words (literal keys, so the catalog test sees each used);
# a failure is shouted, as a terminal line has no colour. The magic skips only protected names.
_MARK_KEYS = {
    states.DELETED: "report.outcome.deleted",
    states.ALREADY_GONE: "report.outcome.already_gone",
    states.FAILED: "report.outcome.failed",
    states.CANCELLED: "report.outcome.not_sent",
    states.SKIPPED: "report.outcome.protected",
}

# Catalog keys of the options' help texts, by argparse dest.
_HELP_KEYS = {
    "names": "magic.help.names",
    "match": "magic.help.match",
    "search": "magic.help.search",
    "older_than": "magic.help.older_than",
    "yes": "magic.help.yes",
    "widget": "magic.help.widget",
    "output": "magic.help.output",
    "session": "magic.help.session",
    "restore": "magic.help.restore",
    "allow_other_project": "magic.help.allow_other_project",
    "no_backup": "magic.help.no_backup",
    "doctor": "magic.help.doctor",
    "concurrency": "magic.help.concurrency",
    "help": "magic.help.help",
}


def _mark(state: str) -> str:
    """A final state as a progress-line mark, padded to the widest mark in this language."""
    if state not in _MARK_KEYS:
        return state
    widest = max(width(t(key)) for key in _MARK_KEYS.values())
    mark = t(_MARK_KEYS[state])
    return ljust(mark.upper() if state == states.FAILED else mark, widest)


def _stop_and_wait(job: Job) -> None:
    """After a Ctrl-C: send nothing more and wait for what is in flight (a second Ctrl-C ends
    the waiting: it raises ``KeyboardInterrupt`` here, polled so that it is seen at once)."""
    job.cancel()
    with contextlib.suppress(RuntimeError):  # RuntimeError: it had started
        job.start()  # interrupted before it started: with cancel set, it only marks names
    print(t("magic.interrupted"), file=sys.stderr, flush=True)
    polled_wait(job.finished)


def _outcomes(job: Job, in_flight: str, unknown_key: str) -> dict[str, Status]:
    """Each of ``job``'s names with its result; one without (a second Ctrl-C stopped the waiting)
    is unknown when it was in the ``in_flight`` state (``unknown_key`` says so), else not sent."""
    results: dict[str, Status] = {}
    for name in job.names:
        if name in job.results:
            results[name] = job.results[name]
        elif job.states.get(name) == in_flight:
            results[name] = errors.failure(errors.INTERRUPTED, t(unknown_key))
        else:
            results[name] = errors.failure(errors.CANCELLED, t("magic.not_sent_interrupted"))
    return results


def _criteria(args: Any) -> str:
    """The names and filters given, as typed, for a "nothing matches" message."""
    parts = [shlex.join(args.names)] if args.names else []
    parts += [
        f"{flag} {shlex.quote(value)}"
        for flag, value in (("--match", args.match), ("--search", args.search))
        if value
    ]
    if args.older_than is not None:
        parts.append(f"--older-than {args.older_than:g}")
    return " ".join(parts)


def localize_help() -> str:
    """Put ``%modelarts_delete``'s help in the current language; return it (what ``--help`` prints).

    Also the magic's docstring, which ``%modelarts_delete?`` shows.
    """
    func = DeleteMagics.modelarts_delete
    parser = func.parser
    if not issubclass(parser.formatter_class, WideHelpFormatter):  # Chinese help fits the terminal too
        parser.formatter_class = type("HelpFormatter", (WideHelpFormatter, parser.formatter_class), {})
    parser.description = t("magic.help.description")
    parser._positionals.title = t("magic.help.positionals")
    parser._optionals.title = t("magic.help.options")
    for action in parser._actions:
        if action.dest in _HELP_KEYS:
            action.help = t(_HELP_KEYS[action.dest], default=DEFAULT_DELETE_CONCURRENCY)
    text = str(parser.format_help())
    func.__doc__ = text
    return text


@magics_class
class DeleteMagics(Magics):
    """The ``%modelarts_delete`` line magic."""

    @magic_arguments()
    @argument("names", nargs="*", metavar="NAME")
    @argument("--match", metavar="GLOB")
    @argument("--search", metavar="TEXT")
    @argument("--older-than", metavar="DAYS", type=float)
    @argument("-y", "--yes", action="store_true")
    @argument("--widget", action="store_true")
    @argument("-o", "--output", metavar="VAR")
    @argument("--session", metavar="VAR")
    @argument("--restore", metavar="latest|FILE")
    @argument("--allow-other-project", action="store_true")
    @argument("--no-backup", action="store_true")
    @argument("--doctor", action="store_true")
    @argument("--concurrency", type=int, default=DEFAULT_DELETE_CONCURRENCY, metavar="N")
    @argument("-h", "--help", action="store_true")
    @line_magic
    def modelarts_delete(self, line: str) -> Any:
        """Delete ModelArts training-job configs: a dry run unless --yes is given.

        The help (``%modelarts_delete --help``, ``%modelarts_delete?``) is in the catalogs,
        ``magic.help.*``, in the session's language; see :func:`localize_help`.
        """
        # Shell-style splitting, so that quotes around a glob are removed as users expect
        # (IPython's default splitting keeps them).
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise UsageError(t("magic.bad_arguments", error=exc)) from None
        # Intermixed, so that names may follow options: `a --match 'x*' b`. Everything after a
        # `--` is a name (a valid name may begin with '-'); parse_intermixed_args refuses those.
        tail: list[str] = []
        if "--" in argv:
            cut = argv.index("--")
            argv, tail = argv[:cut], argv[cut + 1 :]
        try:
            args = self.modelarts_delete.parser.parse_intermixed_args(argv)
        except UsageError as exc:
            raise UsageError(argument_error(str(exc))) from None
        args.names = [*args.names, *tail]
        if args.help:
            print(localize_help().removeprefix("::").strip())  # "::" marks the docstring's usage for Sphinx
            return None
        if args.doctor:
            from .frontend import diagnose

            print(diagnose())
            return None
        bad = [n for n in args.names if not is_valid_config_name(n)]
        if bad:
            raise UsageError(t("magic.invalid_name", name=visible(repr(bad[0]))))
        if args.older_than is not None and not (math.isfinite(args.older_than) and args.older_than >= 0):
            raise UsageError(t("magic.older_than", value=f"{args.older_than:g}"))
        if args.concurrency < 1:
            raise UsageError(t("magic.concurrency", value=args.concurrency))
        if args.widget and args.yes:
            raise UsageError(t("magic.widget_and_yes"))
        session = self._session(args.session)
        if args.restore is not None:
            # A delete's options would be ignored here: refused, not silently dropped.
            delete_only = (args.yes, args.widget, args.match, args.search, args.no_backup)
            if (
                any(delete_only)
                or args.older_than is not None
                or args.concurrency != DEFAULT_DELETE_CONCURRENCY
            ):
                raise UsageError(t("magic.restore_arguments"))
            restored = self._restore(session, args.restore, args.names, args.allow_other_project)
            return self._store(args.output, restored)
        if args.allow_other_project:
            raise UsageError(t("magic.allow_other_project"))
        patterns = protect_patterns()
        filtered = bool(args.names or args.match or args.search or args.older_than is not None)
        if not filtered:
            from .widget import JobConfigTable

            return self._store(args.output, JobConfigTable(session=session, protect=patterns))
        try:
            configs = list_all_configs(
                session, search_content=args.search, sort_by="config_name", order="asc"
            )
            existing = {str(c["config_name"]) for c in configs}
            not_found = [n for n in dict.fromkeys(args.names) if n not in existing]
            if args.search:
                # The server's search left these out, which does not make them absent: ask.
                not_found = [n for n in not_found if not config_exists(session, n)]
        except ModelArtsError as exc:
            raise UsageError(t("magic.listing_failed", error=visible(exc))) from None
        choice = choose_configs(
            configs, names=args.names, match=args.match, search=args.search, older_than_days=args.older_than
        )
        chosen = choice.chosen
        if args.widget:
            from .widget import JobConfigTable

            names = [str(c["config_name"]) for c in chosen]
            return self._store(args.output, JobConfigTable(session=session, protect=patterns, selected=names))
        skipped = protected_names((str(c["config_name"]) for c in chosen), patterns)
        planned = [c for c in chosen if c["config_name"] not in skipped]
        trash = None if args.no_backup else Trash()
        report = DeletionReport(
            dry_run=not args.yes,
            planned=planned,
            skipped=skipped,
            not_found=not_found,
            project=session.project_id,
            backup=str(trash.folder) if trash is not None and not args.yes else "",
            backups=trash is not None,
            criteria=_criteria(args),
            age_unknown=choice.age_unknown,
            search_unmatched=choice.search_unmatched,
        )
        if args.yes:
            try:
                if planned or skipped:
                    names = [str(c["config_name"]) for c in planned]
                    self._delete(session, names, skipped, args.concurrency, trash, report)
            finally:
                # Even after a second Ctrl-C: every name gets its status, and -o gets the report.
                for name in not_found:
                    message = t("magic.not_found", name=name, project=session.project_id)
                    report.results[name] = errors.failure(errors.NOT_FOUND, message)
                self._store(args.output, report)
        return self._store(args.output, report)

    def _session(self, variable: str | None) -> Session:
        if variable is None:
            try:
                return Session()
            except ModelArtsError as exc:  # e.g. no credentials: the sources tried, one a line
                raise UsageError(exc.describe(lines=True)) from None
        value = self.shell.user_ns.get(variable) if self.shell is not None else None
        if not isinstance(value, Session):
            raise UsageError(t("magic.no_session", variable=variable))
        return value

    def _store(self, variable: str | None, value: Any) -> Any:
        if variable is not None:
            if not variable.isidentifier():
                raise UsageError(t("magic.bad_variable", variable=variable))
            if self.shell is not None:
                self.shell.user_ns[variable] = value
        return value

    @staticmethod
    def _restore(session: Session, which: str, names: list[str], allow_other_project: bool) -> RestoreReport:
        trash = Trash()
        backup: str | Path = which
        if which != "latest":
            path = Path(which).expanduser()
            if not path.is_file() and (trash.folder / which).is_file():
                path = trash.folder / which
            backup = path
        try:
            job = BulkRestore(
                session, backup, names or None, allow_other_project=allow_other_project, trash=trash
            )
        except (OSError, ValueError) as exc:
            raise UsageError(t("magic.restore_failed", which=which, error=exc)) from None
        try:
            try:
                job.start()
                polled_wait(job.finished)
            except KeyboardInterrupt:  # as in a delete: send nothing more, report what happened
                _stop_and_wait(job)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting, report what is known
            print(t("magic.interrupted_again"), file=sys.stderr, flush=True)
        results = _outcomes(job, states.RESTORING, "magic.in_flight_interrupted_restore")
        return RestoreReport(backup=str(job.backup_path), results=results)

    @staticmethod
    def _delete(
        session: Session,
        names: list[str],
        skip: dict[str, str],
        concurrency: int,
        trash: Trash | None,
        report: DeletionReport,
    ) -> None:
        """Run the shared bulk delete into ``report``, printing each name as it ends (from this thread).

        ``skip`` (protected name -> why) goes to the job's skip list: those names end ``skipped``.

        The first Ctrl-C stops sending and waits for what is in flight; a second stops waiting:
        names still in flight are then reported as unknown (never as not sent), and the
        report is complete either way.
        """
        finished: queue.SimpleQueue[tuple[str, str, Status | None]] = queue.SimpleQueue()

        def on_status(name: str, state: str, result: Status | None) -> None:
            if state in states.DELETE_FINAL_STATES:
                finished.put((name, state, result))

        run = BulkDelete(
            session,
            [*names, *skip],
            concurrency=concurrency,
            on_status=on_status,
            skip=skip,
            backup=trash or False,
        )
        printed = 0
        try:
            try:
                if names:  # only protected names: nothing is deleted, each is listed as skipped
                    print(t("magic.deleting", count=len(names)), flush=True)
                run.start()
                # No `continue` inside the `except queue.Empty`: on CPython 3.11 a Ctrl-C landing on
                # that jump escaped the `except KeyboardInterrupt` below (seen in the tests).
                while printed < len(run.names):  # run.names: each name once
                    try:
                        name, state, result = finished.get(timeout=0.1)
                    except queue.Empty:
                        pass
                    else:
                        printed += 1
                        detail = ""
                        if result is not None and not result.get("is_success"):
                            detail = f"  {result.get('error_code')}: {result.get('error_msg')}"
                        print(visible(f"  {_mark(state)}  {name}{detail}"), flush=True)
                # Every name is final; the job ends once its backup file is closed (or removed
                # as empty): the report names the file only then.
                polled_wait(run.finished)
            except KeyboardInterrupt:
                report.interrupted = True
                _stop_and_wait(run)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting, report what is known
            print(t("magic.interrupted_again"), file=sys.stderr, flush=True)
        finally:
            results = _outcomes(run, states.DELETING, "magic.in_flight_interrupted")
            report.results = {**results, **report.results}
            report.backup = str(run.backup_path) if run.backup_path else ""
            report.backed_up = list(run.backed_up)


# IPython's `?` asks an object's getdoc() before its __doc__ (a bound method reads it from its
# function): `%modelarts_delete?` is then in the language of the moment it is asked, not of
# the last %load_ext or --help.
DeleteMagics.modelarts_delete.getdoc = localize_help
