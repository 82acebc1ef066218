"""Property tests: invalid names never reach the wire, valid ones are encoded and signed right,
and no magic line can crash the magic or delete without --yes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.report import DeletionReport
from modelarts_widgets.sdk import BulkDelete, Estimator, InvalidConfigNameError, Session, is_valid_config_name

VALID = st.from_regex(r"[0-9A-Za-z_-]{1,64}", fullmatch=True)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Emulator, Session]]:
    with Emulator(configs=20, seed=9) as emulator:
        yield emulator, Session(environ=emulator.env(), backoff_factor=0.01)


@SETTINGS
@given(name=st.text(max_size=80))
def test_invalid_names_never_reach_the_wire(shared: tuple[Emulator, Session], name: str) -> None:
    emulator, session = shared
    if is_valid_config_name(name):
        return
    sent = len(emulator.requests)
    with pytest.raises(InvalidConfigNameError):
        Estimator(modelarts_session=session, config_name=name)
    # In a bulk run it fails alone, unsent, with its own status (backups on: not even read).
    result = BulkDelete(session, [name]).run()[name]
    assert result["is_success"] is False
    assert result["error_code"] == "Client.InvalidName"
    assert len(emulator.requests) == sent


@SETTINGS
@given(name=VALID)
def test_valid_names_are_encoded_and_signed_correctly(shared: tuple[Emulator, Session], name: str) -> None:
    emulator, session = shared
    if name in emulator.store.names():
        return
    status = Estimator(modelarts_session=session, config_name=name).delete_job_configs()
    # The emulator checked the signature over the encoded path: a signing mistake is APIGW.0301.
    assert status == {
        "is_success": False,
        "error_code": "ModelArts.0015",
        "error_msg": "The resource you requested is not exist",
    }


TOKENS = st.sampled_from(
    [
        "--match",
        "'tmp-*'",
        "--search",
        "bert",
        "--older-than",
        "-3",
        "7",
        "1e309",
        "nan",
        "--widget",
        "-o",
        "out",
        "1bad",
        "--session",
        "nope",
        "--concurrency",
        "0",
        "4",
        "name-1",
        "bad name",
        "'unclosed",
        "--",
        "-x",
        "{x}",
        "$HOME",
        "中文",
        "--help",
    ]
)


@SETTINGS
@given(tokens=st.lists(TOKENS, max_size=6))
def test_no_magic_line_crashes_or_deletes_without_yes(
    shared: tuple[Emulator, Session], monkeypatch: pytest.MonkeyPatch, tokens: list[str]
) -> None:
    emulator, _ = shared
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    before = emulator.store.names()
    try:
        result = shell.run_line_magic("modelarts_delete", " ".join(tokens))
    except UsageError:
        result = None
    from modelarts_widgets import JobConfigTable

    assert result is None or isinstance(result, (DeletionReport, JobConfigTable))
    if isinstance(result, JobConfigTable):
        result.wait_loaded(10)
    assert emulator.store.names() == before
