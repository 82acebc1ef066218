"""The emulator as an independent counterpart: IAM for real clients (password tokens, catalogs, the version
document, command-line users)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from modelarts_widgets.emulator import DEFAULT_REGION, Emulator
from modelarts_widgets.sdk import Session

# -- IAM for real clients ---------------------------------------------------------------------------


def _token_body(user: str, password: str, domain: str, project: dict[str, str]) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "password": password, "domain": {"name": domain}}},
            },
            "scope": {"project": project},
        }
    }


def test_token_answers_carry_a_catalog_unless_nocatalog(emulator: Emulator) -> None:
    emulator.identities.users[("acct", "dora")] = "dora-pass"
    body = _token_body("dora", "dora-pass", "acct", {"name": emulator.region})
    answer = requests.post(f"{emulator.endpoint}/v3/auth/tokens", json=body, timeout=10)
    assert answer.status_code == 201
    token = answer.json()["token"]
    urls = {e["type"]: e["endpoints"][0]["url"] for e in token["catalog"]}
    assert urls["modelarts"] == f"{emulator.endpoint}/v1/{emulator.project_id}"
    assert urls["identity"] == f"{emulator.endpoint}/v3"
    assert token["user"]["name"] == "dora"
    bare = requests.post(f"{emulator.endpoint}/v3/auth/tokens?nocatalog=true", json=body, timeout=10)
    assert bare.status_code == 201
    assert "catalog" not in bare.json()["token"]


def test_get_v3_answers_the_version_document(emulator: Emulator) -> None:
    answer = requests.get(f"{emulator.endpoint}/v3", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["version"]["id"].startswith("v3")


def test_command_line_iam_user_can_log_in(tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelarts_widgets.emulator",
            "--configs",
            "2",
            "--iam-user",
            "acct/erin:erin-pass",
            "--env-file",
            str(env_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        endpoint = first.split(" on ", 1)[1].split(" ", 1)[0]
        body = _token_body("erin", "erin-pass", "acct", {"name": DEFAULT_REGION})
        good = requests.post(f"{endpoint}/v3/auth/tokens", json=body, timeout=10)
        assert good.status_code == 201, good.text
        body["auth"]["identity"]["password"]["user"]["password"] = "wrong"
        assert requests.post(f"{endpoint}/v3/auth/tokens", json=body, timeout=10).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_password_session_works_through_the_catalog_token(emulator: Emulator) -> None:
    emulator.identities.users[("acct", "fay")] = "fay-pass"
    session = Session(
        account="acct",
        username="fay",
        password="fay-pass",
        region_name=emulator.region,
        project_id=emulator.project_id,
        modelarts_endpoint=emulator.endpoint,
        iam_endpoint=emulator.endpoint,
    )
    assert session.call("GET", "/training-job-configs", query=[("per_page", 1)])["is_success"] is True


@pytest.mark.parametrize(
    "password",
    ["absent", None, "", 0, ["x"]],
)
def test_a_user_iam_does_not_know_gets_no_token_whatever_the_password(
    emulator: Emulator, password: object
) -> None:
    # An unknown user's stored password is "none"; a request without one must not match it.
    body = _token_body("ghost", "x", "ghost", {"id": emulator.project_id})
    user = body["auth"]["identity"]["password"]["user"]
    if password == "absent":
        del user["password"]
    else:
        user["password"] = password
    answer = requests.post(f"{emulator.endpoint}/v3/auth/tokens", json=body, timeout=10)
    assert answer.status_code in (400, 401), answer.text
    assert "X-Subject-Token" not in answer.headers
    assert not emulator.identities.tokens


def test_a_known_user_without_a_password_gets_no_token(emulator: Emulator) -> None:
    emulator.identities.users[("acct", "gil")] = "gil-pass"
    body = _token_body("gil", "x", "acct", {"id": emulator.project_id})
    del body["auth"]["identity"]["password"]["user"]["password"]
    answer = requests.post(f"{emulator.endpoint}/v3/auth/tokens", json=body, timeout=10)
    assert answer.status_code in (400, 401), answer.text
    assert not emulator.identities.tokens
