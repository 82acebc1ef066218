"""Each source of Session()'s automatic chain, and the error when none applies."""

from __future__ import annotations

import json
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import AuthenticationError, Estimator, Session, delete_job_configs


def _endpoints(monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> None:
    monkeypatch.setenv("MODELARTS_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("MODELARTS_REGION", emulator.region)


def test_environment_variables_come_first(
    emulator: Emulator, emulator_env: dict[str, str], isolated_env: Path
) -> None:
    profile = isolated_env / ".huaweicloud" / "credentials"
    profile.parent.mkdir()
    profile.write_text("[basic]\nak = OTHER\nsk = OTHER\n")
    session = Session()
    assert session.auth_source == "environment variables"
    assert Estimator.get_job_configs_list(session)["is_success"] is True


def test_notebook_project_id_variable_is_used(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    env = emulator.env()
    _endpoints(monkeypatch, emulator)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", env["HUAWEICLOUD_SDK_AK"])
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", env["HUAWEICLOUD_SDK_SK"])
    monkeypatch.setenv("PROJECT_ID", emulator.project_id)
    assert Session().project_id == emulator.project_id


def test_profile_file(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = emulator.env()
    _endpoints(monkeypatch, emulator)
    profile = tmp_path / "creds.ini"
    profile.write_text(
        f"[basic]\nak = {env['HUAWEICLOUD_SDK_AK']}\nsk = {env['HUAWEICLOUD_SDK_SK']}\n"
        f"project_id = {emulator.project_id}\n"
    )
    monkeypatch.setenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", str(profile))
    session = Session()
    assert session.auth_source == f"profile file {profile}"
    assert Estimator.get_job_configs_list(session)["is_success"] is True


STAND_IN_SESSION = '''
"""A stand-in for the official SDK preinstalled in ModelArts notebooks (the real one is not public)."""
import json, os

class Session:
    def __init__(self):
        data = json.load(open(os.environ["STAND_IN_CREDENTIALS"]))
        self.access_key = data["access"]
        self.secret_key = data["secret"]
        self.security_token = data["token"]
        self.project_id = data["project_id"]
        self.region_name = data["region"]
        self.user_id = "user-0001"
'''


@pytest.fixture
def official_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> Iterator[Path]:
    """A fake ``modelarts`` package in a notebook-like install folder, serving temporary keys."""
    folder = tmp_path / "modelarts-sdk"
    (folder / "modelarts").mkdir(parents=True)
    (folder / "modelarts" / "__init__.py").write_text("")
    (folder / "modelarts" / "session.py").write_text(textwrap.dedent(STAND_IN_SESSION))
    creds = tmp_path / "agency.json"

    def rotate() -> None:
        access, key = emulator.identities.issue_temporary()
        creds.write_text(
            json.dumps(
                {
                    "access": access,
                    "secret": key.secret,
                    "token": key.token,
                    "project_id": emulator.project_id,
                    "region": emulator.region,
                }
            )
        )

    rotate()
    monkeypatch.setenv("STAND_IN_CREDENTIALS", str(creds))
    monkeypatch.setenv("MODELARTS_SDK_PATHS", str(folder))
    monkeypatch.setenv("MODELARTS_ENDPOINT", emulator.endpoint)
    saved_path = list(sys.path)
    yield creds
    sys.path[:] = saved_path
    for name in [m for m in sys.modules if m == "modelarts" or m.startswith("modelarts.")]:
        del sys.modules[name]


def test_modelarts_notebook_uses_the_official_session(emulator: Emulator, official_sdk: Path) -> None:
    session = Session()
    assert session.auth_source == "ModelArts notebook (official SDK session)"
    assert session.project_id == emulator.project_id
    assert session.region_name == emulator.region
    assert session.credentials_kind == "temporary AK/SK"
    name = sorted(emulator.store.names())[0]
    assert Estimator(modelarts_session=session, config_name=name).delete_job_configs() == {"is_success": True}


def test_notebook_credentials_rotated_mid_run_are_picked_up(emulator: Emulator, official_sdk: Path) -> None:
    session = Session()
    chosen = sorted(emulator.store.names())[:10]
    delete_job_configs(session, chosen[:5])
    # The agency's keys rotate: the old ones stop working and the official Session has new ones.
    emulator.identities.temporary.clear()
    access, key = emulator.identities.issue_temporary()
    data = json.loads(official_sdk.read_text())
    official_sdk.write_text(json.dumps({**data, "access": access, "secret": key.secret, "token": key.token}))
    results = delete_job_configs(session, chosen[5:])
    assert all(r["is_success"] for r in results.values())
    assert not set(chosen) & emulator.store.names()


def test_metadata_service_with_hardened_token(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELARTS_METADATA_DISABLED")
    monkeypatch.setenv("MODELARTS_METADATA_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("MODELARTS_ENDPOINT", emulator.endpoint)
    session = Session()
    assert session.auth_source == f"metadata service ({emulator.endpoint})"
    assert session.project_id == emulator.project_id  # from meta_data.json
    assert session.region_name == emulator.region
    assert Estimator.get_job_configs_list(session)["is_success"] is True


def test_metadata_credentials_expiring_during_a_bulk_delete_are_refreshed(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELARTS_METADATA_DISABLED")
    monkeypatch.setenv("MODELARTS_METADATA_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("MODELARTS_ENDPOINT", emulator.endpoint)
    emulator.identities.metadata_hardened = False
    emulator.identities.temporary_ttl = 0.5  # every key expires within half a second
    session = Session()
    emulator.faults.latency = 0.1
    chosen = sorted(emulator.store.names())[:12]
    results = delete_job_configs(session, chosen, concurrency=2)
    assert all(r["is_success"] for r in results.values())
    assert emulator.identities.metadata_requests > 2


def test_legacy_config_json(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> None:
    emulator.identities.users[("my-account", "bob")] = "bob-password"
    _endpoints(monkeypatch, emulator)
    config = isolated_env / ".modelarts" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"account": "my-account", "username": "bob", "password": "bob-password"}))
    session = Session()
    assert session.auth_source == f"legacy config {config}"
    assert session.credentials_kind == "IAM token"
    assert Estimator.get_job_configs_list(session)["is_success"] is True


def test_no_credentials_anywhere_fails_fast_and_lists_every_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELARTS_METADATA_DISABLED")  # probe the real link-local address
    started = time.monotonic()
    with pytest.raises(AuthenticationError) as caught:
        Session()
    assert time.monotonic() - started < 2.0
    message = str(caught.value)
    for source in (
        "environment variables",
        "profile file",
        "ModelArts notebook",
        "metadata service",
        "config.json",
    ):
        assert source in message
    assert "HUAWEICLOUD_SDK_AK" in message  # says how to configure one


def test_silent_metadata_listener_does_not_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # accept, never answer
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.delenv("MODELARTS_METADATA_DISABLED")
    monkeypatch.setenv("MODELARTS_METADATA_ENDPOINT", f"http://127.0.0.1:{listener.getsockname()[1]}")
    started = time.monotonic()
    with pytest.raises(AuthenticationError, match="did not answer"):
        Session()
    assert time.monotonic() - started < 2.0
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()
