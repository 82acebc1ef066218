"""Issue 11 in the browser: Stop takes effect at once while the server throttles."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator

from .conftest import Server
from .test_e2e import _open, server  # noqa: F401  (server is a fixture)

pytestmark = pytest.mark.e2e


def test_stop_is_immediate_while_the_server_throttles(
    page: Any,
    server: Server,  # noqa: F811
    e2e_emulator: Emulator,
) -> None:
    notebook = _open(page, server, "stop-throttled.ipynb")
    everything = {n for n in e2e_emulator.store.names() if not n.startswith("prod-")}
    # Every DELETE is refused with a long (but honoured: under the 60 s cap) Retry-After.
    e2e_emulator.injector.update(
        {"error_rate": 1.0, "kinds": ["429"], "retry_after_value": "50", "fault_methods": ["DELETE"]}
    )
    page.get_by_role("checkbox", name="Select all shown").check()
    page.get_by_role("button", name="Delete").first.click()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Stop", exact=True).wait_for(timeout=10_000)
    time.sleep(1.5)  # the DELETEs were refused and are waiting to resend
    clicked = time.monotonic()
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_role("button", name="Stop", exact=True).wait_for(state="hidden", timeout=5_000)
    stopped_in = time.monotonic() - clicked
    sent = e2e_emulator.count("DELETE")
    notebook.run_cell(1)
    state = json.loads(notebook.output_line("STATE").removeprefix("STATE "))
    assert stopped_in < 3, stopped_in  # 1 s in the kernel, plus the page's round trips
    assert set(state["results"]) == everything
    assert all(r.get("error_code") == "Client.Cancelled" for r in state["results"].values()), state
    assert everything <= e2e_emulator.store.names()
    time.sleep(1)
    assert e2e_emulator.count("DELETE") == sent
