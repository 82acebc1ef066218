"""Session modes, signature checks by the emulator, token expiry and endpoint settings."""

from __future__ import annotations

import pytest

from modelarts_widgets.emulator import DEFAULT_PROJECT, Emulator, expiring_token
from modelarts_widgets.sdk import AuthenticationError, Estimator, Session


def _iam_user(emulator: Emulator) -> None:
    emulator.identities.users[("my-account", "alice")] = "alice-password-1"


def _alice(emulator: Emulator, password: str = "alice-password-1") -> Session:
    """A password-mode session of the emulator's IAM user."""
    return Session(
        account="my-account",
        username="alice",
        password=password,
        region_name=emulator.region,
        modelarts_endpoint=emulator.endpoint,
        iam_endpoint=emulator.endpoint,
    )


def _logins(emulator: Emulator) -> int:
    return sum(1 for _, path, _ in emulator.requests if path.startswith("/v3/auth/tokens"))


def test_access_key_mode_with_explicit_arguments(emulator: Emulator) -> None:
    env = emulator.env()
    session = Session(
        access_key=env["HUAWEICLOUD_SDK_AK"],
        secret_key=env["HUAWEICLOUD_SDK_SK"],
        project_id=emulator.project_id,
        region_name=emulator.region,
        modelarts_endpoint=emulator.endpoint,
    )
    assert session.auth_source == "arguments (AK/SK)"
    assert Estimator.get_job_configs_list(session)["config_total_count"] == 30


def test_wrong_secret_key_is_refused_by_signature_check(emulator: Emulator) -> None:
    env = {**emulator.env(), "HUAWEICLOUD_SDK_SK": "not-the-secret"}
    result = Estimator.get_job_configs_list(Session(environ=env))
    assert result["is_success"] is False
    assert result["error_code"] == "APIGW.0301"


def test_clock_skew_gives_signature_expired(emulator: Emulator, session: Session) -> None:
    emulator.faults.clock_offset = 16 * 60
    result = Estimator.get_job_configs_list(session)
    assert result["error_code"] == "APIGW.0303"


def test_project_mismatch_is_reported(emulator: Emulator) -> None:
    env = {**emulator.env(), "HUAWEICLOUD_SDK_PROJECT_ID": "ffffffffffffffffffffffffffffffff"}
    result = Estimator.get_job_configs_list(Session(environ=env))
    assert result["error_code"] == "ModelArts.0210"


def test_temporary_keys_need_their_security_token(emulator: Emulator) -> None:
    access, key = emulator.identities.issue_temporary()
    base = {**emulator.env(), "HUAWEICLOUD_SDK_AK": access, "HUAWEICLOUD_SDK_SK": key.secret}
    without = Estimator.get_job_configs_list(Session(environ=base))
    assert without["error_code"] == "APIGW.0301"
    with_token = Session(environ={**base, "HUAWEICLOUD_SDK_SECURITY_TOKEN": key.token})
    assert with_token.credentials_kind == "temporary AK/SK"
    assert Estimator.get_job_configs_list(with_token)["is_success"] is True


def test_iam_user_password_mode_gets_and_renews_a_token(emulator: Emulator) -> None:
    _iam_user(emulator)
    session = _alice(emulator)
    assert session.project_id == DEFAULT_PROJECT  # taken from the token
    assert session.credentials_kind == "IAM token"
    assert Estimator.get_job_configs_list(session)["is_success"] is True
    assert _logins(emulator) == 1
    expiring_token(emulator, -1)  # every token is now expired on the server
    assert Estimator.get_job_configs_list(session)["is_success"] is True  # renewed once, resent
    assert _logins(emulator) == 2


def test_token_close_to_expiry_is_renewed_before_use(emulator: Emulator) -> None:
    _iam_user(emulator)
    emulator.identities.token_ttl = 60  # shorter than the renewal margin
    session = _alice(emulator)
    Estimator.get_job_configs_list(session)
    assert _logins(emulator) == 2


def test_wrong_password_fails_at_construction(emulator: Emulator) -> None:
    _iam_user(emulator)
    with pytest.raises(AuthenticationError, match="username or password"):
        _alice(emulator, "wrong")


def test_revoked_credentials_stop_with_a_clear_error(emulator: Emulator, session: Session) -> None:
    emulator.identities.revoke_all()
    result = Estimator.get_job_configs_list(session)
    assert result["is_success"] is False
    assert result["error_code"] == "APIGW.0301"


def test_project_id_is_looked_up_in_iam_when_not_given(emulator: Emulator) -> None:
    env = emulator.env()
    del env["HUAWEICLOUD_SDK_PROJECT_ID"]
    session = Session(environ=env)
    assert session.project_id == emulator.project_id
    assert any(p.startswith("/v3/projects?") for _, p, _ in emulator.requests)


def test_set_endpoint_points_later_sessions_elsewhere(emulator: Emulator) -> None:
    env = emulator.env()
    del env["MODELARTS_ENDPOINT"]
    Session.set_endpoint(modelarts_endpoint=emulator.endpoint, region_name="my-private-region")
    try:
        session = Session(environ=env)
        assert session.endpoint == emulator.endpoint
        assert session.region_name == "my-private-region"
    finally:
        Session.set_endpoint()
    assert Session(environ=env).endpoint == "https://modelarts.cn-north-4.myhuaweicloud.com"


def test_region_table_endpoints() -> None:
    from modelarts_widgets.sdk.endpoints import iam_endpoint, modelarts_endpoint

    assert modelarts_endpoint("cn-north-4") == "https://modelarts.cn-north-4.myhuaweicloud.com"
    assert modelarts_endpoint("ap-southeast-1") == "https://modelarts.ap-southeast-1.myhuaweicloud.cn"
    assert iam_endpoint(None) == "https://iam.myhuaweicloud.com"


def test_turning_tls_verification_off_is_never_silent(emulator: Emulator) -> None:
    with pytest.warns(UserWarning, match="TLS certificate verification is off"):
        session = Session(environ=emulator.env(), verify=False)
    assert "TLS verification OFF" in repr(session)
    assert Session(environ=emulator.env()).verify is True
