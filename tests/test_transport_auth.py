"""Issue 11, a transport you can trust, against the emulator over real HTTP: credentials and auth.

Single-flight renewal (item 9), a pool that grows and credentials HTTP cannot carry
(item 10), and notebook auto-auth that finds the real SDK (item 11)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from modelarts_widgets.emulator import Emulator, expiring_token
from modelarts_widgets.sdk import (
    AuthenticationError,
    BulkDelete,
    Estimator,
    Session,
    errors,
)
from tests.helpers_transport import _fill, _password_session, _session
from tests.test_auth_chain import official_sdk  # noqa: F401  (a fixture)

# -- 9. single-flight renewal ----------------------------------------------------------------------


def test_one_expiry_during_an_eight_way_delete_is_one_login(emulator: Emulator) -> None:
    session = _password_session(emulator)
    names = _fill(emulator, 40)
    emulator.faults.latency = 0.05
    expiring_token(emulator, -1)
    results = BulkDelete(session, names, concurrency=8, backup=False).run()
    assert all(r["is_success"] for r in results.values())
    logins = [p for m, p, _ in emulator.requests if m == "POST" and p.startswith("/v3/auth/tokens")]
    assert len(logins) == 2  # the first, and one renewal


# -- 10. the pool, and credentials HTTP cannot carry -----------------------------------------------


def test_the_pool_grows_with_the_concurrency(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    names = _fill(emulator, 200)
    emulator.faults.latency = 0.02
    session = _session(emulator)
    results = BulkDelete(session, names, concurrency=32).run()
    assert all(r["is_success"] for r in results.values())
    assert session.pool_size >= 64
    full = [r for r in caplog.records if "pool is full" in r.getMessage()]
    assert full == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secret_key", "sk\u2019SECRET-x"),
        ("access_key", "AK\u00a0\u4e2d"),
        ("security_token", "tok\nSECRET-x"),
    ],
)
def test_credentials_http_cannot_carry_are_refused_at_session(
    emulator: Emulator, field: str, value: str
) -> None:
    kwargs = {"access_key": "AK", "secret_key": "SK", field: value}
    with pytest.raises(AuthenticationError) as caught:
        Session(**kwargs, project_id="p", modelarts_endpoint=emulator.endpoint, environ={})  # type: ignore[arg-type]
    assert caught.value.error_code == errors.BAD_CREDENTIALS
    assert field.replace("_", " ") in str(caught.value)
    assert "SECRET" not in str(caught.value)
    assert emulator.requests == []


# -- 11. notebook auto-auth finds the real SDK -----------------------------------------------------


def _modelarts_folder_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A notebook's folder holding a ``modelarts/`` directory, on sys.path as a notebook has it."""
    work = tmp_path / "work"
    (work / "modelarts").mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))


def test_a_modelarts_folder_in_the_working_directory_does_not_hide_the_sdk(
    emulator: Emulator,
    official_sdk: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _modelarts_folder_in_the_working_directory(tmp_path, monkeypatch)
    import importlib

    importlib.import_module("modelarts")  # the namespace package, as a notebook cell might
    session = Session()
    assert session.auth_source == "ModelArts notebook (official SDK session)"
    assert Estimator.get_job_configs_list(session)["is_success"] is True


def test_a_failed_sdk_import_does_not_stick(
    emulator: Emulator,
    official_sdk: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _modelarts_folder_in_the_working_directory(tmp_path, monkeypatch)
    real = os.environ["MODELARTS_SDK_PATHS"]
    monkeypatch.setenv("MODELARTS_SDK_PATHS", str(tmp_path / "not-yet-installed"))
    with pytest.raises(AuthenticationError, match="official modelarts SDK"):
        Session()  # no SDK anywhere yet: right to fail
    monkeypatch.setenv("MODELARTS_SDK_PATHS", real)  # now it is there
    assert Session().auth_source == "ModelArts notebook (official SDK session)"
    assert getattr(sys.modules["modelarts"], "__file__", None)
