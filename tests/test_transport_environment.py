"""Issue 11, a transport you can trust, against the emulator over real HTTP: where requests go.

Redirects never followed (item 1), the environment used deliberately: netrc, endpoints,
CA bundles, proxies (item 6), and failures that say where (item 7)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import (
    BulkDelete,
    Estimator,
    ModelArtsError,
    Session,
    TransportError,
    errors,
    list_all_configs,
)
from tests.conftest import wait_until
from tests.helpers_transport import _private_ca, _session


@pytest.fixture
def elsewhere() -> Iterator[Emulator]:
    """Another origin on another local port: nothing may ever reach it."""
    with Emulator(configs=0) as em:
        yield em


# -- 1. redirects ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_never_followed_and_deletes_never_reported_done(
    emulator: Emulator, elsewhere: Emulator, status: int
) -> None:
    session = _session(emulator)
    names = sorted(emulator.store.names())[:3]
    emulator.injector.update({"redirect_to": elsewhere.endpoint, "redirect_status": status})
    with pytest.raises(TransportError) as caught:
        list_all_configs(session)
    assert caught.value.error_code == errors.REDIRECTED
    assert "127.0.0.1" in caught.value.error_msg
    assert "not followed" in caught.value.error_msg
    results = BulkDelete(session, names, backup=False).run()
    assert all(r["error_code"] == errors.REDIRECTED for r in results.values())
    assert set(names) <= emulator.store.names()
    assert elsewhere.requests == []


def test_password_body_and_token_never_follow_a_redirect(emulator: Emulator, elsewhere: Emulator) -> None:
    emulator.identities.users[("acct", "alice")] = "SECRET-PASSWORD-1"
    kwargs = {
        "account": "acct",
        "username": "alice",
        "password": "SECRET-PASSWORD-1",
        "region_name": emulator.region,
        "modelarts_endpoint": emulator.endpoint,
        "iam_endpoint": emulator.endpoint,
    }
    session = Session(**kwargs)  # type: ignore[arg-type]
    emulator.injector.update({"redirect_to": elsewhere.endpoint})
    assert Estimator.get_job_configs_list(session)["error_code"] == errors.REDIRECTED  # token header
    with pytest.raises(TransportError) as caught:
        Session(**kwargs)  # type: ignore[arg-type]  # the login's password body
    assert caught.value.error_code == errors.REDIRECTED
    assert elsewhere.requests == []


# -- 6. the environment, used deliberately ---------------------------------------------------------


def test_netrc_is_never_consulted(emulator: Emulator, isolated_env: Path) -> None:
    netrc = isolated_env / ".netrc"
    netrc.write_text("default login someone password hunter2\n")
    netrc.chmod(0o600)
    session = _session(emulator)
    assert Estimator.get_job_configs_list(session)["is_success"] is True


@pytest.mark.parametrize("where", ["MODELARTS_ENDPOINT", "HUAWEICLOUD_SDK_IAM_ENDPOINT"])
def test_user_and_password_in_an_endpoint_are_refused_before_sending(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    host = emulator.endpoint.split("://")[1]
    env = {**emulator.env(), where: f"http://user:SECRET-hunter2@{host}"}
    with pytest.raises(ModelArtsError) as caught:
        Session(environ=env)
    assert caught.value.error_code == errors.BAD_ENDPOINT
    shown = f"{caught.value} {caught.value!r} {caught.value.args} {caplog.text}"
    assert "hunter2" not in shown
    assert emulator.requests == []


def test_the_projects_ca_wins_over_requests_ca_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_file, context = _private_ca(tmp_path)
    with Emulator(configs=5, ssl_context=context) as em:
        system = "/etc/ssl/certs/ca-certificates.crt"
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", system)
        monkeypatch.setenv("CURL_CA_BUNDLE", system)
        for key, value in {**em.env(), "MODELARTS_CA_BUNDLE": str(ca_file)}.items():
            monkeypatch.setenv(key, value)
        session = Session()
        assert Estimator.get_job_configs_list(session)["config_total_count"] == 5
        assert "OFF" not in repr(session)
        assert str(ca_file) in repr(session)
        explicit = Session(verify=str(ca_file))
        assert Estimator.get_job_configs_list(explicit)["is_success"] is True
        monkeypatch.delenv("MODELARTS_CA_BUNDLE")
        unknown = Estimator.get_job_configs_list(Session())  # only the system CAs: refused
        assert unknown["error_code"] == errors.CONNECTION
        assert "certificate" in unknown["error_msg"]


class _Proxy(BaseHTTPRequestHandler):
    """A plain forwarding HTTP proxy that sends everything to one upstream port."""

    upstream: int
    seen: list[str]

    def log_message(self, *args: object) -> None:
        pass

    def _forward(self) -> None:
        import http.client

        self.seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        path = "/" + self.path.split("://", 1)[1].split("/", 1)[1]
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection",)}
        conn.request(self.command, path, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection"):
                self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = _forward


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_proxies_from_the_environment_are_honoured(emulator: Emulator) -> None:
    seen: list[str] = []
    handler = type("Handler", (_Proxy,), {"upstream": emulator.port, "seen": seen})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True).start()
    try:
        endpoint = f"http://modelarts.example.test:{emulator.port}"
        env = {**emulator.env(), "MODELARTS_ENDPOINT": endpoint}
        env["HTTP_PROXY"] = f"http://127.0.0.1:{proxy.server_address[1]}"
        assert Estimator.get_job_configs_list(Session(environ=env))["is_success"] is True
        assert seen
        assert seen[0].startswith(f"GET {endpoint}/v1/")
        seen.clear()
        bypass = {**env, "NO_PROXY": ".example.test", "MODELARTS_ENDPOINT": emulator.endpoint}
        assert Estimator.get_job_configs_list(Session(environ=bypass))["is_success"] is True
        assert seen == []
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.parametrize("proxy", ["refusing", "unresolvable"])
def test_a_failing_proxy_is_named_as_the_proxy(emulator: Emulator, proxy: str) -> None:
    address = f"127.0.0.1:{_free_port()}" if proxy == "refusing" else "proxy.invalid:3128"
    env = {
        **emulator.env(),
        "MODELARTS_ENDPOINT": "http://modelarts.example.test",
        "http_proxy": f"http://user:SECRET-proxy@{address}",
    }
    started = time.monotonic()
    result = Estimator.get_job_configs_list(Session(environ=env))
    assert time.monotonic() - started < 5
    assert result["error_code"] == errors.UNREACHABLE
    assert f"proxy http://{address}" in result["error_msg"]
    assert "SECRET-proxy" not in result["error_msg"]
    with pytest.raises(TransportError) as caught:
        Session(environ=env).call("GET", "/training-job-configs")
    assert str(caught.value).lower().count("nothing was sent") == 1  # said once, by the hint


# -- 7. failures say where -------------------------------------------------------------------------


def test_a_refused_connection_fails_fast_with_the_hint() -> None:
    port = _free_port()
    session = Session("AK", "SK", "p1", "r1", modelarts_endpoint=f"http://127.0.0.1:{port}", environ={})
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        session.call("GET", "/training-job-configs")
    assert time.monotonic() - started < 2
    assert caught.value.error_code == errors.UNREACHABLE
    assert "refused" in str(caught.value)
    assert "MODELARTS_ENDPOINT" in str(caught.value)


@pytest.mark.parametrize("backup", [True, False])
def test_a_bulk_run_against_an_unreachable_endpoint_stops_early(emulator: Emulator, backup: bool) -> None:
    names = [f"cfg-{i:03d}" for i in range(60)]
    env = {**emulator.env(), "MODELARTS_ENDPOINT": f"http://127.0.0.1:{_free_port()}"}
    session = Session(environ=env)
    started = time.monotonic()
    results = BulkDelete(session, names, concurrency=4, backup=backup).run()
    assert time.monotonic() - started < 5
    assert set(results) == set(names)
    for result in results.values():
        assert result["error_code"] == errors.CANCELLED
        assert result["error_msg"].startswith("Not sent: the endpoint could not be reached")
        assert "refused" in result["error_msg"]


@pytest.fixture
def blackholed() -> Iterator[str]:
    """An endpoint whose SYNs go unanswered: a listener whose accept queue is full (Linux drops them)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        pytest.skip("this system answers connections beyond a full accept queue")
    except OSError:
        pass
    yield f"http://127.0.0.1:{port}"
    for filler in fillers:
        filler.close()
    listener.close()


def test_a_blackholed_endpoint_fails_within_two_seconds_in_the_widget_and_the_magic(blackholed: str) -> None:
    """Issue 15: the first error within 2 s; the 5 s connect timeout made it 5 s when SYNs go unanswered."""
    from IPython.core.interactiveshell import InteractiveShell

    from modelarts_widgets import JobConfigTable

    env = {
        "HUAWEICLOUD_SDK_AK": "AK",
        "HUAWEICLOUD_SDK_SK": "SK",
        "HUAWEICLOUD_SDK_PROJECT_ID": "p1",
        "MODELARTS_REGION": "r1",
        "MODELARTS_ENDPOINT": blackholed,
    }
    started = time.monotonic()
    table = JobConfigTable(session=Session(environ=env))
    table.wait_loaded(30)
    assert time.monotonic() - started < 2
    assert table.error.get("code") == errors.UNREACHABLE, table.error
    table.close()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    shell.user_ns["blackholed_session"] = Session(environ=env)
    started = time.monotonic()
    with pytest.raises(Exception, match="timed out while connecting") as caught:
        shell.run_line_magic("modelarts_delete", "--match 'x*' --session blackholed_session")
    assert time.monotonic() - started < 2
    assert str(caught.value).lower().count("nothing was sent") == 1  # said once, by the hint


def test_an_endpoint_once_reached_keeps_the_full_connect_timeout(emulator: Emulator) -> None:
    """The short first connect is for an endpoint never reached; later connects get the setting."""
    session = Session(environ=emulator.env())
    session.call("GET", "/training-job-configs")
    assert session._api._connect_timeout() == session._api.timeout[0]
    fresh = Session(environ=emulator.env(), timeout=(8.0, 30.0))
    assert fresh._api._connect_timeout() == 8.0  # an explicit setting is kept from the start


def test_a_first_connect_that_times_out_while_others_reached_the_endpoint_is_resent(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The short first connect must not stop a bulk run of a fresh session whose endpoint answers."""
    from modelarts_widgets.sdk import transport

    emulator.faults.latency = 0.2  # the first wave is sent before any answer
    names = sorted(emulator.store.names())[:12]
    session = Session(environ=emulator.env())
    real_send = transport.send
    entered: list[bool] = []
    timed_out: list[bool] = []

    def one_slow_connect(*args: object, **kwargs: object) -> object:
        entered.append(session._api._reached.is_set())
        if len(entered) == 2 and not entered[-1]:  # a first connect of the first wave
            wait_until(session._api._reached.is_set)  # another request reached the endpoint
            timed_out.append(True)
            raise TransportError("timed out while connecting; nothing was sent", errors.UNREACHABLE)
        return real_send(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transport, "send", one_slow_connect)
    results = BulkDelete(session, names, concurrency=4).run()
    assert timed_out
    assert all(r.get("is_success") for r in results.values()), results
    assert not set(names) & emulator.store.names()
