"""Faults survived and nothing lost: soak runs, revoked keys, interrupts, garbled answers.

The soak writes its figures to test-artifacts/reliability-*.json; docs/reliability.md quotes them.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.emulator.faults import FAULT_KINDS, MALFORMED_KINDS
from modelarts_widgets.sdk import BulkDelete, Estimator, Session, TransportError, list_all_configs
from modelarts_widgets.sdk.bulk import FINAL_STATES
from modelarts_widgets.sdk.errors import hint_for

from .conftest import interrupt_when_held, stderr_shows, waited

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _fill(emulator: Emulator, count: int) -> dict[str, dict[str, Any]]:
    emulator.store.replace(
        [
            {"config_name": f"soak-{i:05d}", "config_desc": f"config {i}", "create_time": i}
            for i in range(count)
        ]
    )
    return emulator.store.snapshot()


def _soak(emulator: Emulator, session: Session, *, configs: int, chosen: int, via: str) -> dict[str, Any]:
    """Delete ``chosen`` of ``configs`` names under 10% random faults; check the store after."""
    before = _fill(emulator, configs)
    names = sorted(random.Random(configs).sample(sorted(before), chosen))
    finals: Counter[str] = Counter()
    widget = None
    if via == "widget":
        widget = JobConfigTable(session=session)
        widget.wait_loaded(60)
        assert widget.phase == "ready"
        widget.selected = names
    emulator.injector.update(
        {
            "error_rate": 0.10,
            "kinds": [*FAULT_KINDS, *MALFORMED_KINDS],
            "retry_after": 1,
            "latency": 0.002,
            "seed": 7,
        }
    )
    started = time.monotonic()
    if widget is not None:
        results = widget.delete_selected()
        finals.update(n for n, s in widget._statuses.items() if s[0] in FINAL_STATES)
    else:
        run = BulkDelete(
            session, names, on_status=lambda n, s, r: finals.update([n]) if s in FINAL_STATES else None
        )
        results = run.run()
    elapsed = time.monotonic() - started
    injected = dict(emulator.injector.injected)
    emulator.injector.update({"error_rate": 0.0})
    after = emulator.store.snapshot()
    deleted = {n for n, r in results.items() if r["is_success"]}
    failed = {n: r for n, r in results.items() if not r["is_success"]}
    untouched = {n: c for n, c in before.items() if n not in names}
    summary = {
        "via": via,
        "configs": configs,
        "chosen": chosen,
        "requests": len(emulator.requests),
        "faults_injected": sum(injected.values()),
        "faults_by_kind": injected,
        "deleted": len(deleted),
        "failed": len(failed),
        "failure_codes": dict(Counter(r["error_code"] for r in failed.values())),
        "store_mismatches": len(set(after) ^ (set(before) - deleted)),
        "names_without_one_final_status": sum(1 for n in names if finals[n] != 1),
        "untouched_configs_changed": sum(1 for n, c in untouched.items() if after.get(n) != c),
        "seconds": round(elapsed, 2),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"reliability-{via}-{configs}.json").write_text(json.dumps(summary, indent=2))
    assert set(results) == set(names)
    assert summary["store_mismatches"] == 0, summary
    assert summary["names_without_one_final_status"] == 0, summary
    assert summary["untouched_configs_changed"] == 0, summary
    for name in failed:  # a failure is true: the config is still there, or the message says unknown
        assert name in after or "unknown" in failed[name]["error_msg"]
    return summary


@pytest.mark.parametrize("via", ["bulk", "widget"])
def test_soak_small(emulator: Emulator, session: Session, via: str) -> None:
    summary = _soak(emulator, session, configs=300, chosen=200, via=via)
    assert summary["faults_injected"] > 10


@pytest.mark.slow
@pytest.mark.parametrize("via", ["bulk", "widget"])
def test_soak_full(emulator: Emulator, session: Session, via: str) -> None:
    _soak(emulator, session, configs=3000, chosen=2000, via=via)


def test_revoked_credentials_stop_the_run_with_a_reason_per_name(
    emulator: Emulator, session: Session
) -> None:
    before = _fill(emulator, 40)
    emulator.hold("delete")
    run = BulkDelete(session, sorted(before), concurrency=2, backup=False).start()
    emulator.wait_held(2)  # two DELETEs authenticated and in flight: they succeed
    emulator.identities.revoke_all()  # the next ones are refused
    emulator.release()
    results = run.wait(30)
    sent = emulator.count("DELETE")
    assert set(results) == set(before)
    deleted = {n for n, r in results.items() if r["is_success"]}
    refused = {n for n, r in results.items() if r.get("error_code") == "APIGW.0301"}
    not_sent = {n: r for n, r in results.items() if r.get("error_code") == "Client.Cancelled"}
    assert deleted
    assert refused
    assert not_sent
    assert deleted | refused | set(not_sent) == set(before)
    assert all("credentials were rejected (APIGW.0301" in r["error_msg"] for r in not_sent.values())
    assert emulator.store.names() == set(before) - deleted
    assert sent < len(before)  # it stopped instead of sending every remaining name
    assert sent == len(deleted) + len(refused)  # each DELETE sent once; none for the names not sent


def test_keyboard_interrupt_during_the_magic_leaves_true_statuses(
    emulator: Emulator, emulator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _fill(emulator, 30)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    # Ctrl-C while two DELETEs are in flight; they go on once the magic says it waits for them.
    emulator.hold("delete")
    waiting = stderr_shows(monkeypatch, "waiting for what is in flight")
    press = interrupt_when_held(emulator, 2, waited(waiting), emulator.release)
    try:
        report = shell.run_line_magic("modelarts_delete", "--match soak-* --concurrency 2 --yes --no-backup")
    finally:
        emulator.release()
    press.join()
    sent = emulator.count("DELETE")
    assert set(report) == set(before)
    deleted = set(report.deleted)
    cancelled = {n for n, r in report.items() if r.get("error_code") == "Client.Cancelled"}
    assert deleted
    assert cancelled
    assert deleted | cancelled == set(before)
    assert emulator.store.names() == set(before) - deleted
    time.sleep(0.3)
    assert emulator.count("DELETE") == sent


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_garbled_answers_are_clear_errors_never_a_wrong_status(
    emulator: Emulator, session: Session, kind: str
) -> None:
    before = emulator.store.names()
    name = sorted(before)[0]
    emulator.injector.update({"error_rate": 1.0, "kinds": [kind]})
    with pytest.raises(TransportError) as caught:
        list_all_configs(session)
    assert caught.value.hint
    status = Estimator(modelarts_session=session, config_name=name).delete_job_configs()
    assert status["is_success"] is False
    assert "unknown" in status["error_msg"]  # it could not check, and says so
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    assert widget.phase == "error"
    assert widget.error["message"]
    assert emulator.store.names() == before


def test_garbled_answers_now_and_then_are_read_again(emulator: Emulator, session: Session) -> None:
    emulator.injector.update({"error_rate": 0.3, "kinds": list(MALFORMED_KINDS), "seed": 3})
    configs = list_all_configs(session, per_page=5)
    assert {c["config_name"] for c in configs} == emulator.store.names()


@pytest.mark.parametrize(
    ("setup", "code", "says"),
    [
        ("clock", "APIGW.0303", "clock"),
        ("project", "ModelArts.0210", "project"),
        ("region", "Client.Unreachable", "region"),
        ("endpoint", "Client.Unreachable", "MODELARTS_ENDPOINT"),
        ("secret", "APIGW.0301", "secret key"),
    ],
)
def test_configuration_errors_say_what_to_fix(emulator: Emulator, setup: str, code: str, says: str) -> None:
    env = emulator.env()
    if setup == "clock":
        emulator.faults.clock_offset = 20 * 60
    elif setup == "project":
        env["HUAWEICLOUD_SDK_PROJECT_ID"] = "f" * 32
    elif setup == "region":
        del env["MODELARTS_ENDPOINT"]
        env["MODELARTS_REGION"] = "cn-nowhere-1"
    elif setup == "endpoint":
        env["MODELARTS_ENDPOINT"] = "http://127.0.0.1:9"
    elif setup == "secret":
        env["HUAWEICLOUD_SDK_SK"] = "wrong"
    session = Session(environ=env, max_retries=0)
    result = Estimator.get_job_configs_list(session)
    assert result["error_code"] == code
    assert says in hint_for(code)
    if setup == "region":
        assert "host name could not be resolved" in result["error_msg"]


def test_emulator_binds_loopback_unless_told_otherwise() -> None:
    with Emulator(configs=0) as emulator:
        assert emulator._server is not None
        assert emulator._server.server_address[0] == "127.0.0.1"
