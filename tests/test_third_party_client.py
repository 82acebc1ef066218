"""A client no one here wrote, otcextensions' modelartsv1 TrainingJobConfig, against the emulator.

It logs in with keystone password auth, finds ModelArts in the token's service catalog and
calls list, get, create, update and delete. It agrees with the emulator only where both follow
the reference. otcextensions is a dev-only test dependency (``pip install -e .[test]``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import Estimator, Session

openstack_connection = pytest.importorskip(
    "openstack.connection", reason="openstacksdk is not installed (it comes with otcextensions)"
)
otc_sdk = pytest.importorskip(
    "otcextensions.sdk",
    reason="otcextensions is not installed: pip install otcextensions (the [test] extra) to run this",
)
openstack_exceptions = pytest.importorskip("openstack.exceptions")

USER, PASSWORD, DOMAIN = "otc-user", "otc-password-1", "otc-domain"
FULL_BODY: dict[str, Any] = {
    "config_desc": "made by otcextensions",
    "worker_server_num": 1,
    "app_url": "/bucket/code/",
    "boot_file_url": "/bucket/code/train.py",
    "model_id": 0,
    "spec_id": 5,
    "engine_id": 2,
    "data_url": "/bucket/data/",
}


@pytest.fixture
def modelarts(emulator: Emulator) -> Iterator[Any]:
    emulator.identities.users[(DOMAIN, USER)] = PASSWORD
    conn = openstack_connection.Connection(
        auth_url=f"{emulator.endpoint}/v3",
        username=USER,
        password=PASSWORD,
        user_domain_name=DOMAIN,
        project_id=emulator.project_id,
        region_name=emulator.region,
    )
    otc_sdk.register_otc_extensions(conn)
    yield conn.modelartsv1
    conn.close()


def test_it_logs_in_by_password_and_finds_modelarts_in_the_catalog(
    emulator: Emulator, modelarts: Any
) -> None:
    names = [c.config_name for c in modelarts.training_job_configs(limit=5)]
    assert len(names) == 5
    assert set(names) <= emulator.store.names()
    calls = [(m, p.partition("?")[0]) for m, p, _ in emulator.requests]
    assert ("POST", "/v3/auth/tokens") in calls
    assert ("GET", f"/v1/{emulator.project_id}/training-job-configs") in calls  # the catalog's URL


def test_list_fetches_only_the_first_page(emulator: Emulator, modelarts: Any) -> None:
    # otcextensions is wrong here: it reads one page and stops (the API has no next link and
    # it ignores config_total_count), so 30 configs list as the server's default page of 10.
    assert len(emulator.store.names()) == 30
    assert len(list(modelarts.training_job_configs())) == 10
    assert len(list(modelarts.training_job_configs(limit=1000))) == 30


def test_its_offset_is_a_page_number(emulator: Emulator, modelarts: Any) -> None:
    # otcextensions maps its generic `offset` to `page`: offset=2 is the second page, not an
    # offset of two items.
    listed = [c.config_name for c in modelarts.training_job_configs(limit=5, offset=2, sort_by="config_name")]
    (query,) = [p.partition("?")[2] for m, p, _ in emulator.requests if "per_page=5" in p]
    assert "page=2" in query.split("&")
    everything = [c.config_name for c in modelarts.training_job_configs(limit=1000, sort_by="config_name")]
    assert listed == everything[5:10]


def test_get_create_update_delete(emulator: Emulator, modelarts: Any) -> None:
    name = sorted(emulator.store.names())[0]
    got = modelarts.get_training_job_config(name)
    stored = emulator.store.snapshot()[name]
    assert (got.config_name, got.engine_name, got.engine_id) == (
        name,
        stored["engine_name"],
        stored["engine_id"],
    )

    made = modelarts.create_training_job_config(config_name="otc-made", **FULL_BODY)
    assert made.config_name == "otc-made"
    created = emulator.store.snapshot()["otc-made"]
    assert (created["engine_name"], created["engine_version"]) == ("PyTorch", "PyTorch-1.0.0-python3.6")

    # Its update sends only the attributes given; the reference marks the whole config
    # mandatory, so a partial update is refused (400) and changes nothing ...
    with pytest.raises(openstack_exceptions.BadRequestException):
        modelarts.update_training_job_config("otc-made", config_desc="partial")
    assert emulator.store.snapshot()["otc-made"]["config_desc"] == "made by otcextensions"
    # ... and the full body, as the documented example sends it, is accepted.
    modelarts.update_training_job_config("otc-made", **{**FULL_BODY, "config_desc": "changed"})
    assert emulator.store.snapshot()["otc-made"]["config_desc"] == "changed"

    modelarts.delete_training_job_config("otc-made")
    assert "otc-made" not in emulator.store.names()
    with pytest.raises(openstack_exceptions.ResourceNotFound):
        modelarts.delete_training_job_config("otc-made")
    modelarts.delete_training_job_config("otc-made", ignore_missing=True)


def test_a_wrong_password_is_refused(emulator: Emulator) -> None:
    emulator.identities.users[(DOMAIN, USER)] = PASSWORD
    conn = openstack_connection.Connection(
        auth_url=f"{emulator.endpoint}/v3",
        username=USER,
        password="not-the-password",
        user_domain_name=DOMAIN,
        project_id=emulator.project_id,
        region_name=emulator.region,
    )

    def log_in_and_list() -> None:
        otc_sdk.register_otc_extensions(conn)  # it logs in here to read the catalog
        list(conn.modelartsv1.training_job_configs())

    with pytest.raises(openstack_exceptions.SDKException, match="password is wrong"):
        log_in_and_list()
    assert emulator.count("GET") == 0


def test_its_pool_and_mounts_are_taken_and_our_update_keeps_them(
    emulator: Emulator, session: Session, modelarts: Any
) -> None:
    # otcextensions types volumes as nfs / host_path mounts (its VolumeSpec), as the details page
    # does: what it sends passes the emulator's checks, and our read-modify-write keeps it.
    pool = {
        "pool_id": "pool9928813f",
        "volumes": [
            {
                "nfs": {
                    "id": "43b3",
                    "src_path": "192.168.8.150:/",
                    "dest_path": "/home/work/nas",
                    "read_only": False,
                }
            },
            {"host_path": {"src_path": "/root/work", "dest_path": "/home/mind", "read_only": True}},
        ],
    }
    modelarts.create_training_job_config(config_name="otc-pooled", **FULL_BODY, **pool)
    config = Estimator(modelarts_session=session, config_name="otc-pooled")
    assert config.update_job_configs(inputs="/bucket/other-data/") == {"is_success": True}
    stored = emulator.store.snapshot()["otc-pooled"]
    assert {k: stored[k] for k in pool} == pool
    assert stored["data_url"] == "/bucket/other-data/"
    got = modelarts.get_training_job_config("otc-pooled")
    assert (got.pool_id, len(got.volumes)) == ("pool9928813f", 2)
