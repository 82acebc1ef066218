"""%modelarts_delete in a real IPython shell against the emulator."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets import i18n
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.report import DeletionReport


@pytest.fixture
def ip(emulator_env: dict[str, str]) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    yield shell
    for name in ("report", "s", "w"):
        shell.user_ns.pop(name, None)


def magic(ip: InteractiveShell, line: str) -> Any:
    return ip.run_line_magic("modelarts_delete", line)


def _plain(emulator: Emulator, n: int) -> list[str]:
    return sorted(x for x in emulator.store.names() if not x.startswith("prod-"))[:n]


def test_importing_the_package_registers_nothing() -> None:
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "import modelarts_widgets, modelarts_widgets.magic\n"
        "print('modelarts_delete' in shell.magics_manager.magics['line'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_dry_run_deletes_nothing(emulator: Emulator, ip: InteractiveShell) -> None:
    names = _plain(emulator, 2)
    before = emulator.store.names()
    report = magic(ip, " ".join(names))
    assert isinstance(report, DeletionReport)
    assert report.dry_run
    assert [c["config_name"] for c in report.planned] == names
    assert emulator.store.names() == before
    assert emulator.count("DELETE") == 0
    text = repr(report)
    assert "Dry run: would delete 2 configs" in text
    assert "add --yes" in text
    assert names[0] in text


def test_yes_deletes_exactly_the_chosen_names(
    emulator: Emulator, ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    names = _plain(emulator, 3)
    before = emulator.store.names()
    report = magic(ip, " ".join(names) + " --yes")
    assert dict(report) == {n: {"is_success": True} for n in names}
    assert emulator.store.names() == before - set(names)
    out = capsys.readouterr().out
    assert all(re.search(rf"^  deleted +{n}$", out, re.M) for n in names)
    assert "Deleted 3 of 3" in repr(report)


def test_match_and_older_than_combine(emulator: Emulator, ip: InteractiveShell) -> None:
    now_ms = int(time.time() * 1000)
    emulator.store.replace(
        [
            {"config_name": "tmp-old", "create_time": now_ms - 40 * 86_400_000},
            {"config_name": "tmp-new", "create_time": now_ms - 2 * 86_400_000},
            {"config_name": "keep-old", "create_time": now_ms - 90 * 86_400_000},
        ]
    )
    report = magic(ip, "--match tmp-* --older-than 30 -y")
    assert list(report) == ["tmp-old"]
    assert emulator.store.names() == {"tmp-new", "keep-old"}


def test_search_is_sent_to_the_server(emulator: Emulator, ip: InteractiveShell) -> None:
    target = _plain(emulator, 1)[0]
    report = magic(ip, f"--search {target}")
    assert [c["config_name"] for c in report.planned] == [target]


def test_protected_names_survive_and_are_reported(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELARTS_PROTECT", "prod-*")
    prod = sorted(n for n in emulator.store.names() if n.startswith("prod-"))
    plain = _plain(emulator, 1)
    report = magic(ip, " ".join([*prod, *plain]) + " -y")
    assert set(prod) <= emulator.store.names()
    assert plain[0] not in emulator.store.names()
    assert set(report.skipped) == set(prod)
    assert all(report[n]["error_code"] == "Client.Protected" for n in prod)
    assert f"{len(prod)} protected (skipped)" in repr(report)


def test_protected_names_go_through_the_jobs_skip_list_and_show_as_protected(
    emulator: Emulator,
    ip: InteractiveShell,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MODELARTS_PROTECT", "prod-*")
    prod = sorted(n for n in emulator.store.names() if n.startswith("prod-"))
    plain = _plain(emulator, 1)
    report = magic(ip, " ".join([*prod, *plain]) + " -y")
    out = capsys.readouterr().out
    # Each name's fate is printed as the job gives it, the protected ones too.
    for name in prod:
        assert re.search(rf"^  protected +{re.escape(name)}  Client\.Protected: ", out, re.MULTILINE), out
    assert re.search(rf"^  deleted +{re.escape(plain[0])}$", out, re.MULTILINE), out
    assert "Deleting 1 config…" in out
    assert report.backed_up == plain
    assert all(report[n]["error_code"] == "Client.Protected" for n in prod)
    assert all(emulator.count("GET", n) == 0 and emulator.count("DELETE", n) == 0 for n in prod)


def test_unknown_names_are_reported_not_sent(emulator: Emulator, ip: InteractiveShell) -> None:
    report = magic(ip, "no-such-config -y")
    assert report["no-such-config"]["error_code"] == "Client.NotFound"
    assert emulator.count("DELETE") == 0


def test_one_failure_does_not_stop_the_others(emulator: Emulator, ip: InteractiveShell) -> None:
    names = _plain(emulator, 3)
    emulator.faults.fail_names = {names[1]: [403, "ModelArts.0108", "You are not authorized."]}
    report = magic(ip, " ".join(names) + " --yes")
    assert report.deleted == [names[0], names[2]]
    assert report.failed == {
        names[1]: {
            "is_success": False,
            "error_code": "ModelArts.0108",
            "error_msg": "You are not authorized.",
        }
    }
    assert "ModelArts.0108" in repr(report)
    assert "ModelArts.0108" in report._repr_html_()


def test_output_variable_and_session_variable(emulator: Emulator, ip: InteractiveShell) -> None:
    from modelarts_widgets.sdk import Session

    ip.user_ns["s"] = Session()
    name = _plain(emulator, 1)[0]
    magic(ip, f"{name} -y --session s -o report")
    assert ip.user_ns["report"][name] == {"is_success": True}


def test_widget_opens_with_the_matches_selected(emulator: Emulator, ip: InteractiveShell) -> None:
    names = _plain(emulator, 2)
    widget = magic(ip, " ".join(names) + " --widget")
    widget.wait_loaded(10)
    assert sorted(widget.selected) == names
    assert emulator.count("DELETE") == 0


def test_no_arguments_shows_the_widget(emulator: Emulator, ip: InteractiveShell) -> None:
    from modelarts_widgets import JobConfigTable

    widget = magic(ip, "")
    assert isinstance(widget, JobConfigTable)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--older-than -3", "--older-than takes a number of days >= 0"),
        ("--older-than nan", "--older-than takes a number of days >= 0"),
        ("--older-than soon", "invalid float value"),
        ("--frobnicate", "unrecognized arguments"),
        ("'bad name' -y", "Invalid config name"),
        ("a --widget --yes", "do not go together"),
        ("a --session nothing_here", "no Session in a variable"),
        ("--concurrency 0 a", "at least 1"),
        ("--match 'tmp-*", "No closing quotation"),
    ],
)
def test_bad_arguments_raise_usage_errors_and_delete_nothing(
    emulator: Emulator, ip: InteractiveShell, line: str, message: str
) -> None:
    before = emulator.store.names()
    with pytest.raises(UsageError, match=message):
        magic(ip, line)
    assert emulator.store.names() == before
    assert emulator.count("DELETE") == 0


def test_help_comes_from_the_argument_declarations(ip: InteractiveShell) -> None:
    doc = ip.find_line_magic("modelarts_delete").__doc__
    assert "--older-than DAYS" in doc
    assert "Examples" in doc
    assert "only configs created more than DAYS days ago" in doc


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["really delete (without it: a dry run)", "options", "in flight at once (default 10)"]),
        ("zh-CN", ["真正删除", "选项", "同时进行的删除请求数", "示例"]),
    ],
)
def test_help_prints_in_the_sessions_language_and_does_nothing_else(
    ip: InteractiveShell,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    language: str,
    words: list[str],
) -> None:
    monkeypatch.setenv("MODELARTS_LANGUAGE", language)
    name = sorted(emulator.store.names())[0]
    before = emulator.store.names()
    emulator.requests.clear()
    for flag in ("--help", "-h"):
        assert magic(ip, f"{name} --yes --no-backup {flag}") is None
    out = capsys.readouterr().out
    assert not out.startswith("::")
    for word in words:
        assert out.count(word) == 2, word
    assert emulator.store.names() == before
    assert emulator.requests == []
    # %modelarts_delete? shows the same help (in the language of when it is asked: see below).
    assert words[0] in ip.find_line_magic("modelarts_delete").__doc__


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_help_options_fit_the_terminal_in_both_languages(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], language: str
) -> None:
    """argparse wraps the options' help by characters; a CJK character takes two columns."""
    monkeypatch.setenv("MODELARTS_LANGUAGE", language)
    monkeypatch.setenv("COLUMNS", "80")
    magic(ip, "--help")
    out = capsys.readouterr().out
    options = out[out.index("\n  NAME ") :]  # below the translator's own (preformatted) description
    wide = [line for line in options.splitlines() if i18n.width(line) > 80]
    assert wide == []
    assert ("TEXT 的参数" in options) == (language == "zh-CN")  # every word still there


def test_question_mark_help_follows_the_language_set_after_loading(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`%modelarts_delete?` is in the session's language when asked, not when last loaded."""
    for first, second, word in (("en", "zh-CN", "真正删除"), ("zh-CN", "en", "really delete")):
        monkeypatch.setenv("MODELARTS_LANGUAGE", first)
        magic(ip, "--help")  # the help is made once in the first language
        monkeypatch.setenv("MODELARTS_LANGUAGE", second)  # e.g. %env in a later cell
        shown = ip.object_inspect_text("%modelarts_delete")
        assert word in shown, shown[:400]
    capsys.readouterr()


def test_no_credentials_is_a_usage_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    for key in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(UsageError, match="No ModelArts credentials found") as caught:
        shell.run_line_magic("modelarts_delete", "some-config")
    # The sources tried, one a line as the message words them (not one line of literal '\n's).
    shown = str(caught.value)
    assert "\\n" not in shown, shown
    assert "\n  1. environment variables: " in shown, shown
    assert "\nSet HUAWEICLOUD_SDK_AK" in shown, shown


def test_works_in_a_plain_terminal_ipython(emulator: Emulator, emulator_env: dict[str, str]) -> None:
    name = _plain(emulator, 1)[0]
    code = (
        "ip = get_ipython()\n"
        "ip.run_line_magic('load_ext', 'modelarts_widgets')\n"
        f"print(repr(ip.run_line_magic('modelarts_delete', '{name}')))\n"
        f"print(repr(ip.run_line_magic('modelarts_delete', '{name} --yes')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "Dry run: would delete 1 config" in out
    assert re.search(rf"^  deleted +{name}$", out, re.M)
    assert "Deleted 1 of 1" in out
    assert name not in emulator.store.names()


def test_a_restore_stopped_by_refused_credentials_reports_not_sent_not_failed(
    emulator: Emulator, ip: InteractiveShell
) -> None:
    names = sorted(n for n in emulator.store.names() if not n.startswith("prod-"))
    magic(ip, " ".join(names) + " -y")
    emulator.hold("get")  # each restore first asks whether its config exists again

    def revoke() -> None:
        emulator.wait_held(2)  # looked up with good credentials; the creates will be refused
        emulator.identities.revoke_all()
        emulator.release()

    helper = threading.Thread(target=revoke)
    helper.start()
    report = magic(ip, "--restore latest")
    helper.join()
    refused = [n for n in names if report[n].get("error_code") == "APIGW.0301"]
    not_sent = [n for n in names if report[n].get("error_code") == "Client.Cancelled"]
    assert refused
    assert not_sent
    assert report.restored == []
    text = repr(report)
    assert f"{len(not_sent)} not sent" in text
    assert f"{len(refused)} failed" in text
    for name in not_sent:
        assert re.search(rf"^  not sent +{re.escape(name)}  Client\.Cancelled: ", text, re.MULTILINE), text


def test_ctrl_c_during_a_restore_stops_it_and_still_returns_a_report(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    import _thread

    from modelarts_widgets.sdk.restore import BulkRestore

    names = sorted(n for n in emulator.store.names() if not n.startswith("prod-"))
    magic(ip, " ".join(names) + " -y")
    cancelled = threading.Event()
    real_cancel = BulkRestore.cancel

    def cancel(job: BulkRestore) -> None:
        real_cancel(job)
        cancelled.set()

    monkeypatch.setattr(BulkRestore, "cancel", cancel)
    emulator.hold("get")  # each restore first asks whether its config exists again

    def interrupt() -> None:
        emulator.wait_held(2)
        _thread.interrupt_main()  # Ctrl-C while the lookups are in flight
        cancelled.wait(10)
        emulator.release()

    helper = threading.Thread(target=interrupt)
    helper.start()
    try:
        report = magic(ip, "--restore latest -o r")
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped %modelarts_delete --restore: no report, nothing stored in -o")
    finally:
        emulator.release()
        helper.join()
    assert ip.user_ns["r"] is report
    assert set(report) == set(names)
    assert all(report[n]["error_code"] == "Client.Cancelled" for n in names)
    assert f"{len(names)} not sent" in repr(report)
    assert emulator.count("POST") == 0  # nothing was created after the Ctrl-C
    assert not emulator.store.names() & set(names)


def test_a_second_ctrl_c_during_a_restore_still_returns_and_stores_a_report(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .conftest import CTRL_C, interrupt_when_held, main_thread_waits, stderr_shows, wait_until, waited

    names = sorted(n for n in emulator.store.names() if not n.startswith("prod-"))
    magic(ip, " ".join(names) + " -y")
    emulator.hold("get")  # each restore first asks whether its config exists again
    waiting = stderr_shows(monkeypatch, "waiting for what is in flight")
    # Ctrl-C once two lookups are in flight, and again once the magic says it waits for them.
    presses = interrupt_when_held(emulator, 2, waited(waiting), lambda: wait_until(main_thread_waits), CTRL_C)
    try:
        report = magic(ip, "--restore latest -o r")
    except KeyboardInterrupt:
        pytest.fail("a second Ctrl-C escaped %modelarts_delete --restore: no report, nothing stored in -o")
    finally:
        emulator.release()
    presses.join()
    assert ip.user_ns["r"] is report
    assert set(report) == set(names)
    unknown = {n for n in names if report[n].get("error_code") == "Client.Interrupted"}
    not_sent = {n for n in names if report[n].get("error_code") == "Client.Cancelled"}
    assert len(unknown) >= 1  # in flight: neither claimed restored nor claimed not sent
    assert unknown | not_sent == set(names)
    assert all("unknown" in report[n]["error_msg"] for n in unknown)
    assert emulator.count("POST") == 0  # nothing is created after the first Ctrl-C


def test_the_report_names_no_backup_file_the_run_removed_as_empty(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every name turned out gone at its backup read, so the run's backup file holds nothing and
    is removed when the job closes it. The magic must report once the job has ended, not as soon
    as the last name is printed: on a slow disk it named the file it was about to remove."""
    from modelarts_widgets.sdk import trash

    from .conftest import Background, wait_until

    names = _plain(emulator, 2)
    close = trash.BackupWriter.close
    closing = threading.Event()

    def slow_close(writer: trash.BackupWriter, **options: Any) -> None:
        closing.set()
        time.sleep(0.5)  # a slow disk: the magic, if it does not wait for the job, reports meanwhile
        close(writer, **options)

    monkeypatch.setattr(trash.BackupWriter, "close", slow_close)
    emulator.hold("get")  # the backup reads: the configs vanish before they are answered

    def vanish() -> None:
        emulator.wait_held(2)
        for name in names:
            emulator.store.delete(name)
        emulator.release()

    helper = Background(vanish)
    try:
        report = magic(ip, " ".join(names) + " --yes")
    finally:
        emulator.release()
    helper.join()
    assert report.already_gone == names
    wait_until(lambda: not any(t.name == "modelarts-bulk-delete" for t in threading.enumerate()))
    assert report.backup == "" or Path(report.backup).exists(), report.backup
    assert "holds only configs still there" not in repr(report)
    assert "holds only configs still there" not in repr(report)
