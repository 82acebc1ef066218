"""Issue 11, a transport you can trust, against the emulator over real HTTP: listings that do not
trust the total (item 8)."""

from __future__ import annotations

import json
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import (
    Estimator,
    Session,
    errors,
    list_all_configs,
)
from modelarts_widgets.sdk.bulk import iter_config_pages
from tests.conftest import wait_until
from tests.helpers_transport import _fill, _Recorder, _session

# -- 8. listing does not trust the total -----------------------------------------------------------


def test_a_lying_total_does_not_queue_pages(emulator: Emulator) -> None:
    names = _fill(emulator, 25)
    emulator.injector.update({"total_count": 1_000_000_000})
    session = _session(emulator)
    assert [c["config_name"] for c in list_all_configs(session, sort_by="config_name", order="asc")] == names
    assert emulator.count("GET") == 1
    listed = list_all_configs(session, per_page=10, concurrency=4)
    assert sorted(c["config_name"] for c in listed) == names
    # The first listing's one GET; then page 1, a window of 4 (pages 2-5) and, as page 2 is read,
    # page 6: the short page 3 ends it. Never anywhere near a million.
    assert emulator.count("GET") <= 1 + 1 + 4 + 1
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    assert widget.phase == "ready"
    assert len(widget.rows) == 25


def test_a_server_repeating_full_pages_is_capped_and_deduplicated(recorder: Any) -> None:
    seen = recorder[2]

    class Pages(_Recorder):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            configs = [{"config_name": f"same-{i}"} for i in range(10)]
            body = json.dumps({"is_success": True, "config_total_count": 10, "configs": configs}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        session = Session(
            "AK",
            "SK",
            "p1",
            "r1",
            modelarts_endpoint=f"http://127.0.0.1:{server.server_address[1]}",
            environ={},
        )
        pages = list(iter_config_pages(session, per_page=10, max_pages=7))
        assert len(seen) == 7
        assert sum(len(p) for p in pages) == 10
    finally:
        server.shutdown()
        server.server_close()


def test_null_configs_mean_no_configs_everywhere(emulator: Emulator) -> None:
    emulator.store.replace([])
    emulator.injector.update({"null_when_empty": True})
    session = _session(emulator)
    assert list_all_configs(session) == []
    assert Estimator.get_job_configs_list(session)["configs"] == []
    widget = JobConfigTable(session=session)
    widget.wait_loaded(10)
    assert widget.phase == "ready"
    assert widget.rows == []


def test_widget_listing_can_be_stopped_and_refreshed(emulator: Emulator) -> None:
    _fill(emulator, 2500)
    session = _session(emulator)
    emulator.hold("list")
    widget = JobConfigTable(session=session)
    loader = widget._loader
    assert loader is not None
    emulator.wait_held(1)  # the first load's first page is in flight
    widget.refresh()  # again, during the load: the first one is dropped
    assert widget._loader is not loader
    emulator.wait_held(2)  # and the new load's first page
    emulator.release(keep_holding=True)
    emulator.wait_held(2)  # the new load's first page is in; the next two are in flight
    widget.stop()
    emulator.release(keep_holding=True)  # the two in flight go on; any request sent later is held
    started = time.monotonic()
    widget.wait_loaded(5)
    assert time.monotonic() - started < 2.5  # the pages in flight, no more
    assert widget.phase == "ready"
    assert widget.error["code"] == errors.CANCELLED
    assert len(widget.rows) in (1000, 2000, 2500)
    loader.join(5)
    assert not loader.is_alive()
    # The emulator logs a request when it answers it: let those sent before Stop land (each
    # load's first page and the two in flight), then nothing more may arrive (it would be held).
    wait_until(lambda: emulator.count("GET") == 4)
    time.sleep(1.5)
    assert emulator.injector.held == 0
    assert emulator.count("GET") == 4
    emulator.release()
    widget.refresh()
    widget.wait_loaded(10)
    assert widget.phase == "ready"
    assert len(widget.rows) == 2500
    assert widget.error == {}
