"""Issue 12: every name's status is true and every delete is exactly what was consented to.

Bulk paths, the choice filters, text renderings and the magic's report, against the emulator
over real HTTP; the widget's side of it is in tests/test_widget_contract.py.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets.choose import create_time_ms
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.report import DeletionReport, created_text
from modelarts_widgets.sdk import BulkDelete, Estimator, Session, delete_job_configs
from modelarts_widgets.sdk.text import visible
from modelarts_widgets.sdk.trash import Trash

from .conftest import CTRL_C, interrupt_when_held, main_thread_waits, stderr_shows, wait_until, waited

GONE = {"is_success": True, "already_gone": True}
NOW_MS = int(time.time() * 1000)
DAY_MS = 86_400_000


def _plain(emulator: Emulator, n: int) -> list[str]:
    return sorted(x for x in emulator.store.names() if not x.startswith("prod-"))[:n]


def _config(name: str, created: object = NOW_MS - 90 * DAY_MS, desc: str = "") -> dict[str, Any]:
    return {"config_name": name, "config_desc": desc, "create_time": created}


# -- 1. "gone" is success in bulk paths -----------------------------------------------------------


@pytest.mark.parametrize("backup", [True, False])
def test_names_someone_else_deleted_are_already_gone_not_failed(
    emulator: Emulator, session: Session, backup: bool
) -> None:
    names = _plain(emulator, 5)
    for name in names[:3]:  # another notebook deleted these a second earlier
        emulator.store.delete(name)
    results = delete_job_configs(session, names, backup=backup)
    assert results == {**dict.fromkeys(names[:3], GONE), **{key: {"is_success": True} for key in names[3:]}}
    assert not set(names) & emulator.store.names()


def test_two_deleters_on_the_same_names_both_end_true(emulator: Emulator, session: Session) -> None:
    emulator.store.replace([_config(f"cfg-{i:03d}") for i in range(100)])
    names = sorted(emulator.store.names())
    emulator.faults.latency = 0.002
    runs = [BulkDelete(session, names, concurrency=8), BulkDelete(session, names, concurrency=8)]
    threads = [threading.Thread(target=run.run) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert emulator.store.names() == set()
    for name in names:
        outcomes = sorted(run.states[name] for run in runs)
        # Exactly one DELETE removed it; the other run says it was already gone, never "failed".
        assert outcomes == ["already gone", "deleted"], (name, outcomes)
    assert all(r["is_success"] for run in runs for r in run.results.values())


def test_a_404_on_a_resend_after_a_5xx_is_already_gone(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _plain(emulator, 1)[0]
    emulator.faults.fail_names = {name: [500, "ModelArts.0010", "Internal error"]}
    real_get = emulator.store.get

    def get_then_removed_elsewhere(config: str, config_type: str | None = None) -> dict[str, Any]:
        answer = real_get(config, config_type)
        if config == name and emulator.count("DELETE", name) >= 1:
            # The check saw it; then the other notebook's delete landed before our resend.
            emulator.faults.fail_names = {}
            emulator.store.delete(name)
        return answer

    monkeypatch.setattr(emulator.store, "get", get_then_removed_elsewhere)
    results = delete_job_configs(session, [name], backup=False)
    assert results == {name: GONE}
    assert [s for m, p, s in emulator.requests if m == "DELETE"] == [500, 404]


def test_configured_not_found_codes_count_as_already_gone(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELARTS_NOT_FOUND_CODES", "ModelArts.3999")
    a, b = _plain(emulator, 2)
    emulator.faults.fail_names = {
        a: [400, "ModelArts.3999", "Config does not exist"],
        b: [400, "ModelArts.4000", "Something else"],
    }
    results = delete_job_configs(session, [a, b], backup=False)
    assert results[a] == GONE
    assert results[b]["is_success"] is False
    assert results[b]["error_code"] == "ModelArts.4000"


def test_one_config_keeps_the_official_sdk_answer(emulator: Emulator, session: Session) -> None:
    name = _plain(emulator, 1)[0]
    emulator.store.delete(name)
    status = Estimator(modelarts_session=session, config_name=name).delete_job_configs()
    assert status["is_success"] is False
    assert status["error_code"] == "ModelArts.0015"
    assert "already_gone" not in status


def test_undo_file_holds_names_that_went_between_backup_and_delete(
    emulator: Emulator, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    a, b = _plain(emulator, 2)
    real_delete = emulator.store.delete

    def delete(name: str) -> dict[str, Any]:
        if name == a and a in emulator.store.names():
            real_delete(a)  # removed elsewhere just before our DELETE arrives
        return real_delete(name)

    monkeypatch.setattr(emulator.store, "delete", delete)
    run = BulkDelete(session, [a, b], backup=Trash(tmp_path / "trash"))
    assert run.run() == {a: GONE, b: {"is_success": True}}
    assert run.states == {a: "already gone", b: "deleted"}
    assert sorted(run.backed_up) == [a, b]
    assert run.backup_path is not None
    assert a in run.backup_path.read_text()


# -- 8. one bad name never sinks a batch ------------------------------------------------------------


@pytest.mark.parametrize("backup", [True, False])
def test_an_invalid_listed_name_fails_alone(emulator: Emulator, session: Session, backup: bool) -> None:
    good = _plain(emulator, 2)
    bad = ["bad name", "x" * 65, "tab\there", ""]
    results = delete_job_configs(session, [good[0], *bad, good[1]], backup=backup)
    assert results[good[0]] == results[good[1]] == {"is_success": True}
    for name in bad:
        assert results[name]["is_success"] is False
        assert results[name]["error_code"] == "Client.InvalidName"
        assert "not a valid config name" in results[name]["error_msg"]
    assert not set(good) & emulator.store.names()
    assert emulator.count("DELETE") == 2


# -- 2. age filters fail closed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        "1700000000000",
        True,
        float("nan"),
        float("inf"),
        1e30,
        0,
        -5,
        1_400_000_000_000,
        NOW_MS + DAY_MS,
    ],
)
def test_unknown_or_implausible_ages_are_none(value: object) -> None:
    assert create_time_ms({"config_name": "x", "create_time": value}) is None


def test_plausible_ages_are_kept() -> None:
    assert create_time_ms({"create_time": NOW_MS - DAY_MS}) == NOW_MS - DAY_MS
    assert create_time_ms({"create_time": 1_500_000_000_000.5}) == 1_500_000_000_000.5
    assert create_time_ms({}) is None


@pytest.fixture
def ip(emulator_env: dict[str, str]) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    yield shell
    for name in ("report", "r"):
        shell.user_ns.pop(name, None)


def magic(ip: InteractiveShell, line: str) -> Any:
    return ip.run_line_magic("modelarts_delete", line)


def test_older_than_never_chooses_an_unknown_age(emulator: Emulator, ip: InteractiveShell) -> None:
    emulator.store.replace(
        [
            _config("old-ok", NOW_MS - 90 * DAY_MS),
            _config("null-time", None),
            _config("text-time", "2020-01-01"),
            _config("huge-time", 10**20),
            _config("ancient", 1000),
            _config("future", NOW_MS + 30 * DAY_MS),
            _config("recent", NOW_MS - DAY_MS),
        ]
    )
    dry = magic(ip, "--older-than 30")
    text = repr(dry)
    assert [c["config_name"] for c in dry.planned] == ["old-ok"]
    assert "Age unknown, not chosen:" in text
    unknown = text.split("Age unknown, not chosen:")[1]
    for name in ("null-time", "text-time", "huge-time", "ancient", "future"):
        assert name in unknown
    assert "recent" not in text
    dry._repr_html_()  # neither rendering crashes on a string or huge create_time
    report = magic(ip, "--older-than 30 --yes")
    assert list(report) == ["old-ok"]
    assert emulator.store.names() == {"null-time", "text-time", "huge-time", "ancient", "future", "recent"}


def test_search_chooses_only_local_matches(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.store.replace(
        [
            _config("bert-a"),
            _config("plain-b", desc="fine-tuned BERT"),
            _config("resnet-c", desc="vision"),
            _config("gpt-d"),
        ]
    )
    real_list = emulator.store.list

    def broad_search(params: Mapping[str, str]) -> bytes:  # a server whose search matches more
        return real_list({k: v for k, v in params.items() if k != "search_content"})

    monkeypatch.setattr(emulator.store, "list", broad_search)
    dry = magic(ip, "--search Bert")
    assert [c["config_name"] for c in dry.planned] == ["bert-a", "plain-b"]
    text = repr(dry)
    section = text.split("Returned by the server's search, not chosen:")[1]
    assert "resnet-c" in section
    assert "gpt-d" in section
    report = magic(ip, "--search Bert --yes")
    assert sorted(report) == ["bert-a", "plain-b"]
    assert emulator.store.names() == {"resnet-c", "gpt-d"}


# -- 3. server text cannot forge output --------------------------------------------------------------

HOSTILE = [
    "ok\n  would delete prod-main",
    "ok\r  would delete prod-main",
    "tab\there",
    "\x1b[2K\x1b[1Aerased",
    "bidi \u202egnp.exe",
    "nul\x00bel\x07",
    "line\u2028sep",
    "next\x85line",
]


def _assert_one_line_each(text: str, expected_lines: int) -> None:
    lines = text.split("\n")
    assert len(lines) == expected_lines, lines
    for line in lines:
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", line), repr(line)


def test_visible_escapes_every_kind() -> None:
    assert visible("ok\n  would delete") == "ok\\n  would delete"
    assert visible("\x1b[2K") == "\\x1b[2K"
    assert visible("a\u202eb") == "a\\u202eb"
    assert visible("中文 naïve 🙂") == "中文 naïve 🙂"
    for text in HOSTILE:
        assert "\n" not in visible(text)
        assert visible(text).isprintable()


def test_dry_run_text_is_one_line_per_config(emulator: Emulator, ip: InteractiveShell) -> None:
    emulator.store.replace([_config(f"cfg-{i}", desc=desc) for i, desc in enumerate(HOSTILE)])
    report = magic(ip, "--match cfg-*")
    # summary, backup note, one line per config
    _assert_one_line_each(repr(report), 2 + len(HOSTILE))
    _assert_one_line_each(str(report), 2 + len(HOSTILE))
    assert "ok\\n  would delete prod-main" in repr(report)
    assert "<td>ok\n  would delete prod-main</td>" in report._repr_html_()  # HTML escapes as before


def test_printed_lines_and_errors_stay_on_their_line(
    emulator: Emulator, ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [f"cfg-{i}" for i in range(len(HOSTILE))]
    emulator.store.replace([_config(n) for n in names])
    emulator.faults.fail_names = {n: [403, "ModelArts.0108", msg] for n, msg in zip(names, HOSTILE)}
    report = magic(ip, "--match cfg-* --yes --no-backup")
    out = capsys.readouterr().out
    _assert_one_line_each(out.rstrip("\n"), 1 + len(names))  # "Deleting 8 configs…" + one each
    text = repr(report)
    _assert_one_line_each(text, 1 + len(names))
    assert "would delete prod-main" in text
    assert "\n  would delete" not in text


def test_invalid_listed_names_cannot_forge_lines(
    emulator: Emulator, ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.store.replace([_config("good-1"), _config("evil\n  deleted    prod-main"), _config("good-2")])
    report = magic(ip, "--match * --yes --no-backup")
    assert report["good-1"] == report["good-2"] == {"is_success": True}
    assert report["evil\n  deleted    prod-main"]["error_code"] == "Client.InvalidName"
    assert emulator.store.names() == {"evil\n  deleted    prod-main"}
    out = capsys.readouterr().out
    assert not re.search(r"^\s*deleted\s+prod-main", out, re.M)
    assert not re.search(r"^\s*deleted\s+prod-main", repr(report), re.M)
    assert "evil\\n  deleted" in out


# -- 7. the magic's report adds up --------------------------------------------------------------------


def test_each_name_once_in_one_bucket_and_no_stale_undo_hint(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELARTS_PROTECT", "prod-*")
    old = _plain(emulator, 1)[0]
    magic(ip, f"{old} --yes")  # an older run wrote a backup file
    prod = next(n for n in emulator.store.names() if n.startswith("prod-"))
    report = magic(ip, f"{prod} no-such-config --yes")
    text = repr(report)
    # Nothing could be deleted: the line ends with how to widen the choice, not with an undo hint.
    assert text.splitlines()[0].startswith("Deleted 0 of 0, 1 protected (skipped), 1 not found. To widen")
    assert "--restore" not in text
    assert "undo" not in text
    assert report.buckets() == {prod: "protected", "no-such-config": "not found"}
    assert report.counts() == {"protected": 1, "not found": 1}
    assert report.failed == {}


def test_counts_add_up_over_every_bucket(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELARTS_PROTECT", "prod-*")
    a, b, c, d = _plain(emulator, 4)
    prod = next(n for n in emulator.store.names() if n.startswith("prod-"))
    emulator.faults.fail_names = {c: [403, "ModelArts.0108", "no"]}
    real_delete = emulator.store.delete

    def delete(name: str) -> dict[str, Any]:
        if name == b and b in emulator.store.names():
            real_delete(b)
        return real_delete(name)

    monkeypatch.setattr(emulator.store, "delete", delete)
    report = magic(ip, f"{a} {b} {c} {prod} nope-1 --yes")
    assert report.buckets() == {
        prod: "protected",
        "nope-1": "not found",
        a: "deleted",
        b: "already gone",
        c: "failed",
    }
    assert sum(report.counts().values()) == 5
    first = repr(report).splitlines()[0]
    assert first == "Deleted 1 of 3, 1 already gone, 1 failed, 1 protected (skipped), 1 not found."
    assert d in emulator.store.names()
    assert re.search(rf"^  already gone +{b} ", repr(report), re.M)


def test_undo_hint_names_this_runs_backup_file(emulator: Emulator, ip: InteractiveShell) -> None:
    first, second = _plain(emulator, 2)
    magic(ip, f"{first} --yes")
    report = magic(ip, f"{second} --yes")
    assert report.backup
    assert Path(report.backup).is_file()
    assert second in Path(report.backup).read_text()
    assert f"undo with %modelarts_delete --restore {report.backup})" in repr(report)
    restored = magic(ip, f"--restore {report.backup}")
    assert list(restored) == [second]


def test_names_may_follow_options(emulator: Emulator, ip: InteractiveShell) -> None:
    a, b, c = _plain(emulator, 3)
    report = magic(ip, f"{a} --match '*' {b}")
    assert sorted(x["config_name"] for x in report.planned) == sorted([a, b])
    report = magic(ip, f"--match '*' {c} -y")
    assert list(report) == [c]


def test_times_say_their_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert created_text(1_793_715_840_000) == "2026-11-03 22:24 UTC+08:00"
        monkeypatch.setenv("TZ", "America/St_Johns")
        time.tzset()
        assert created_text(1_793_715_840_000).endswith("UTC-03:30")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC[+-]\d\d:\d\d", created_text(NOW_MS))
    assert created_text(None) == ""
    assert created_text("soon").startswith("invalid")
    assert created_text(10**20).startswith("invalid")
    assert created_text(float("nan")).startswith("invalid")


# -- 9. interrupts ------------------------------------------------------------------------------------


def test_a_second_ctrl_c_still_returns_and_stores_a_report(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.store.replace([_config(f"cfg-{i:02d}") for i in range(10)])
    emulator.hold("delete")
    waiting = stderr_shows(monkeypatch, "waiting for what is in flight")
    # Ctrl-C once both DELETEs are in flight, and again once the magic says it waits for them
    # and does.
    presses = interrupt_when_held(emulator, 2, waited(waiting), lambda: wait_until(main_thread_waits), CTRL_C)
    try:
        report = magic(ip, "--match cfg-* --concurrency 2 --yes --no-backup -o r")
    finally:
        emulator.release()
    presses.join()
    assert ip.user_ns["r"] is report
    assert report.interrupted
    assert set(report) == {f"cfg-{i:02d}" for i in range(10)}
    unknown = {n for n, r in report.items() if r.get("error_code") == "Client.Interrupted"}
    not_sent = set(report.not_sent)
    assert len(unknown) == 2  # the two in flight: neither claimed deleted nor claimed not sent
    assert unknown | not_sent == set(report)
    assert "unknown" in report[next(iter(unknown))]["error_msg"]
    wait_until(lambda: len(emulator.store.names()) == 8)  # the two in flight land
    assert emulator.count("DELETE") == 2  # nothing else is ever sent
    assert not_sent <= emulator.store.names()


def test_interrupt_during_the_backup_phase_says_not_sent_with_backups_on(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.store.replace([_config(f"cfg-{i:02d}") for i in range(30)])
    # The backup reads are held past the interrupt, so no config reaches its DELETE (backups are
    # pipelined); they are let go once the magic says it waits for what is in flight.
    emulator.hold("get")
    waiting = stderr_shows(monkeypatch, "waiting for what is in flight")
    presses = interrupt_when_held(emulator, 1, waited(waiting), emulator.release)
    try:
        report = magic(ip, "--match cfg-* --concurrency 1 --yes -o r")
    finally:
        emulator.release()
    presses.join()
    assert ip.user_ns["r"] is report
    assert emulator.count("DELETE") == 0
    assert report.counts() == {"not sent": 30}
    text = repr(report)
    assert text.splitlines()[0] == "Deleted 0 of 30, 30 not sent."
    assert "Backups were on; nothing was deleted" in text
    assert "--restore" not in text
    assert len(emulator.store.names()) == 30


def test_report_value_is_a_deletion_report() -> None:
    report = DeletionReport(dry_run=False, planned=[_config("a")], results={"a": GONE}, backups=False)
    assert report.already_gone == ["a"]
    assert report.deleted == []
    assert repr(report).splitlines()[0] == "Deleted 0 of 1, 1 already gone."


def test_server_error_text_stays_on_one_line_in_exceptions(emulator: Emulator, ip: InteractiveShell) -> None:
    from IPython.core.error import UsageError

    from modelarts_widgets.sdk import ModelArtsError

    error = ModelArtsError("boom\n  deleted    prod-main\x1b[0m", "ModelArts.\u202e0108", status=500)
    assert "\n" not in str(error)
    assert "\x1b" not in str(error)
    assert "\\u202e" in str(error)
    emulator.injector.update({"deny": ["list"]})
    with pytest.raises(UsageError) as caught:
        magic(ip, "--match *")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("after", [False, True])
def test_ctrl_c_as_the_run_starts_still_gives_true_statuses(
    emulator: Emulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, after: bool
) -> None:
    emulator.store.replace([_config(f"cfg-{i:02d}") for i in range(6)])
    original = BulkDelete.start
    fired: list[bool] = []

    def start(run: BulkDelete) -> BulkDelete:
        if fired:
            return original(run)
        fired.append(True)
        if after:
            original(run)
        raise KeyboardInterrupt

    monkeypatch.setattr(BulkDelete, "start", start)
    report = magic(ip, "--match cfg-* --yes -o r")
    assert ip.user_ns["r"] is report
    assert report.interrupted
    assert set(report) == {f"cfg-{i:02d}" for i in range(6)}
    deleted = set(report.deleted)
    wait_until(lambda: not deleted & emulator.store.names())  # what it reports deleted has landed
    for name, which in report.buckets().items():
        assert which in ("deleted", "not sent")
        assert (name in emulator.store.names()) == (which == "not sent")
    if not after:
        assert emulator.count("DELETE") == 0
