"""The emulator as an independent counterpart: its flavor and engine catalog, and details that
agree with it."""

from __future__ import annotations

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import Session

# -- catalog -----------------------------------------------------------------------------------------


def test_resource_specs_and_ai_engines_answer_as_documented(session: Session) -> None:
    specs = session.call("GET", "/job/resource-specs", query=[("job_type", "train")])
    assert specs["spec_total_count"] == len(specs["specs"]) >= 4
    assert {"spec_id", "spec_code", "cpu", "core", "gpu_num", "gpu_type", "max_num", "no_resource"} <= set(
        specs["specs"][0]
    )
    engines = session.call("GET", "/job/ai-engines", query=[("job_type", "train")])["engines"]
    assert {
        "engine_type": 10,
        "engine_id": 2,
        "engine_name": "PyTorch",
        "engine_version": "PyTorch-1.0.0-python3.6",
    } in engines
    assert any(e["engine_id"] == 1 for e in engines)  # the create call's default engine exists


def test_details_agree_with_the_flavor_and_engine_lists(emulator: Emulator, session: Session) -> None:
    # A config's flavor and engine fields are the catalog entry of its ids, seeded ones included.
    specs = {s["spec_id"]: s for s in session.call("GET", "/job/resource-specs")["specs"]}
    engines = {e["engine_id"]: e for e in session.call("GET", "/job/ai-engines")["engines"]}
    for name in sorted(emulator.store.names()):
        details = session.call("GET", f"/training-job-configs/{name}")
        spec = specs[details["spec_id"]]
        engine = engines[details["engine_id"]]
        for key in ("spec_code", "cpu", "core", "gpu_num", "gpu_type"):
            assert details[key] == spec[key], (name, key)
        for key in ("engine_name", "engine_version", "engine_type"):
            assert details[key] == engine[key], (name, key)
