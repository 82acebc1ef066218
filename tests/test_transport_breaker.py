"""Issue 11, tried to break: cancel must also reach what a call does on its behalf (token renewal)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from modelarts_widgets.emulator import Emulator, expiring_token
from modelarts_widgets.sdk import BulkDelete, Session, errors


class _ThrottlingIam:
    """An IAM in front of the emulator's: passes logins through until told to throttle them."""

    def __init__(self, emulator: Emulator) -> None:
        self.throttle = False
        self.posts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.posts += 1
                if outer.throttle:
                    data = json.dumps({"error_code": "APIG.0308", "error_msg": "slow down"}).encode()
                    self.send_response(429)
                    self.send_header("Retry-After", "30")
                else:
                    request = urllib.request.Request(
                        emulator.endpoint + self.path,
                        data=body,
                        method="POST",
                        headers={"Content-Type": "application/json"},
                    )
                    with urllib.request.urlopen(request) as answer:
                        data = answer.read()
                        self.send_response(answer.status)
                        self.send_header("X-Subject-Token", answer.headers["X-Subject-Token"])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def iam(emulator: Emulator) -> Iterator[_ThrottlingIam]:
    stub = _ThrottlingIam(emulator)
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


def test_cancel_reaches_a_token_renewal_waiting_on_a_throttled_iam(
    emulator: Emulator, iam: _ThrottlingIam
) -> None:
    """A renewal honouring IAM's Retry-After: 30 must not hold wait() after cancel(), nor resend."""
    emulator.identities.users[("acct", "bob")] = "bob-password-1"
    session = Session(
        account="acct",
        username="bob",
        password="bob-password-1",
        region_name=emulator.region,
        modelarts_endpoint=emulator.endpoint,
        iam_endpoint=iam.endpoint,
        environ={},
    )
    names = sorted(emulator.store.names())
    iam.throttle = True
    expiring_token(emulator, -1)
    run = BulkDelete(session, names, concurrency=8, backup=False).start()
    time.sleep(1.5)
    started = time.monotonic()
    run.cancel()
    results: dict[str, Any] = run.wait(10)
    assert time.monotonic() - started < 2
    assert run.done
    logins = iam.posts
    assert {r["error_code"] for r in results.values()} == {errors.CANCELLED}
    assert emulator.store.names() == set(names)
    time.sleep(1)
    assert iam.posts == logins  # no login resent after wait() returned


@pytest.mark.parametrize("expired", [True, False], ids=["after-401", "before-expiry"])
def test_a_failed_renewal_is_one_login_and_stops_the_run(emulator: Emulator, expired: bool) -> None:
    """The password changed meanwhile: one refused login, not one per config (IAM locks accounts)."""
    emulator.identities.users[("acct", "bob")] = "bob-password-1"
    if not expired:
        emulator.identities.token_ttl = 60  # inside the renewal margin: renewed before each use
    session = Session(
        account="acct",
        username="bob",
        password="bob-password-1",
        region_name=emulator.region,
        modelarts_endpoint=emulator.endpoint,
        iam_endpoint=emulator.endpoint,
        environ={},
    )
    names = sorted(emulator.store.names())
    emulator.faults.latency = 0.05
    emulator.identities.users[("acct", "bob")] = "changed-meanwhile"
    if expired:
        expiring_token(emulator, -1)
    results = BulkDelete(session, names, concurrency=8, backup=False).run()
    logins = [p for m, p, _ in emulator.requests if m == "POST" and p.startswith("/v3/auth/tokens")]
    assert len(logins) == 2  # the first, and the one refused renewal
    assert emulator.store.names() == set(names)
    assert not any(r["is_success"] for r in results.values())
    failed = [r for r in results.values() if r["error_code"] != errors.CANCELLED]
    assert failed
    assert all("username or password is wrong" in r["error_msg"] for r in failed)
    assert emulator.count("DELETE") <= 8  # the run stopped: at most the first wave was sent
