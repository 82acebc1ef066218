"""Secrets never reach reprs, exception messages or log records, whatever happens."""

from __future__ import annotations

import logging

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import AuthenticationError, Estimator, Session, delete_job_configs

SECRETS = ("SECRET-SK-7f3a9c", "SECRET-TOKEN-51be", "SECRET-PASSWORD-9d2e")


def test_no_secret_in_reprs_errors_or_debug_logs(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.identities.keys["AKVISIBLE"] = SECRETS[0]
    emulator.identities.users[("acct", "carol")] = SECRETS[2]
    texts: list[str] = []
    env = {**emulator.env(), "HUAWEICLOUD_SDK_AK": "AKVISIBLE", "HUAWEICLOUD_SDK_SK": SECRETS[0]}
    session = Session(environ=env)
    texts += [repr(session), str(session), repr(session._credentials), repr(vars(session))]
    chosen = sorted(emulator.store.names())[:3]
    results = delete_job_configs(session, [*chosen, "missing-config"])
    texts.append(repr(results))
    temp = Session(environ={**env, "HUAWEICLOUD_SDK_SECURITY_TOKEN": SECRETS[1]})
    texts.append(repr(Estimator.get_job_configs_list(temp)))  # refused: unknown token
    texts.append(repr(vars(temp)))
    password = Session(
        account="acct",
        username="carol",
        password=SECRETS[2],
        region_name=emulator.region,
        modelarts_endpoint=emulator.endpoint,
        iam_endpoint=emulator.endpoint,
    )
    texts += [repr(password), repr(vars(password)), repr(Estimator.get_job_configs_list(password))]
    with pytest.raises(AuthenticationError) as caught:
        Session(
            account="acct",
            username="carol",
            password=SECRETS[2] + "x",
            region_name=emulator.region,
            iam_endpoint=emulator.endpoint,
            modelarts_endpoint=emulator.endpoint,
        )
    texts += [str(caught.value), repr(caught.value), repr(caught.value.args)]
    texts.append(caplog.text)
    texts += [record.getMessage() for record in caplog.records]
    blob = "\n".join(texts)
    for secret in SECRETS:
        assert secret not in blob
    assert len(results) == 4  # the run happened, failures included
