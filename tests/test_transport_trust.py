"""Issue 11: a transport you can trust, against the emulator over real HTTP.

Redirects never followed, resends signed afresh, Retry-After capped, cancel at once, a total
deadline, the environment used deliberately, failures that say where, listings that do not trust
the total, single-flight renewal, a pool that grows, and auto-auth that finds the real SDK.
"""

from __future__ import annotations

import _thread
import datetime
import json
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from modelarts_widgets import JobConfigTable
from modelarts_widgets.emulator import Emulator, expiring_token
from modelarts_widgets.sdk import (
    AuthenticationError,
    BulkDelete,
    Estimator,
    ModelArtsError,
    Session,
    TransportError,
    errors,
    list_all_configs,
)
from modelarts_widgets.sdk.bulk import iter_config_pages
from tests.test_auth_chain import official_sdk  # noqa: F401  (a fixture)


def _fill(emulator: Emulator, count: int, prefix: str = "cfg") -> list[str]:
    names = [f"{prefix}-{i:04d}" for i in range(count)]
    emulator.store.replace(
        [{"config_name": n, "config_desc": "", "create_time": i} for i, n in enumerate(names)]
    )
    return names


def _session(emulator: Emulator, **kwargs: Any) -> Session:
    return Session(environ=emulator.env(), backoff_factor=0.01, **kwargs)


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


# -- 2. retries above signing ----------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    """Answers from a script; records each request's signing headers."""

    script: list[tuple[int, dict[str, str]]]
    seen: list[dict[str, str]]

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        status, headers = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        body = json.dumps({"is_success": status == 200, "error_code": "APIG.0308"}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    do_DELETE = do_GET


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[int, dict[str, str]]], list[dict[str, str]]]]:
    script: list[tuple[int, dict[str, str]]] = []
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Recorder,), {"script": script, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script, seen
    server.shutdown()
    server.server_close()


def test_every_resend_is_signed_afresh(recorder: Any) -> None:
    base, script, seen = recorder
    script += [(429, {"Retry-After": "1.1"}), (503, {"Retry-After": "1.1"}), (200, {})]
    session = Session("AKX", "SKX", "p1", "r1", modelarts_endpoint=base, environ={})
    session.call("DELETE", "/training-job-configs/a")
    assert len(seen) == 3
    dates = [h["X-Sdk-Date"] for h in seen]
    assert len(set(dates)) == 3, "a resend reused an earlier signature date"
    assert len({h["Authorization"] for h in seen}) == 3


# -- 3. Retry-After cap ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["86400.5", "1e10", "inf", "1e400", "Fri, 31 Dec 9999 23:59:59 GMT", "3600"]
)
def test_retry_after_beyond_the_cap_ends_the_call_at_once(emulator: Emulator, value: str) -> None:
    session = _session(emulator)
    name = sorted(emulator.store.names())[0]
    emulator.injector.update({"error_rate": 1.0, "kinds": ["429"], "retry_after_value": value})
    started = time.monotonic()
    results = BulkDelete(session, [name], backup=False).run()
    assert time.monotonic() - started < 2
    assert results[name]["error_code"] == errors.THROTTLED
    assert value in results[name]["error_msg"]
    assert emulator.count("DELETE") == 1
    assert name in emulator.store.names()


def test_retry_after_within_the_cap_is_honoured(emulator: Emulator) -> None:
    session = _session(emulator, max_retry_wait=2, max_retries=1)
    emulator.injector.update({"error_rate": 1.0, "kinds": ["503"], "retry_after_value": "1.5"})
    started = time.monotonic()
    assert Estimator.get_job_configs_list(session)["is_success"] is False
    assert time.monotonic() - started >= 1.4
    assert emulator.count("GET") == 2
    emulator.injector.update({"retry_after_value": "2.5"})
    with pytest.raises(TransportError, match=r"'2\.5'.*longer than the 2 s"):
        session.call("GET", "/training-job-configs")


def test_retry_after_values_are_read_safely() -> None:
    from modelarts_widgets.sdk.transport import parse_retry_after

    assert parse_retry_after("86400.5") == 86400.5
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("nan") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("inf") == float("inf")
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT") > 1e9  # type: ignore[operator]


# -- 4. cancel is immediate ------------------------------------------------------------------------


def _throttle(emulator: Emulator) -> None:
    emulator.injector.update({"error_rate": 1.0, "kinds": ["429"], "retry_after_value": "30"})


def test_cancel_during_throttling_returns_at_once_and_sends_nothing_after(emulator: Emulator) -> None:
    names = _fill(emulator, 40)
    session = _session(emulator)
    run = BulkDelete(session, names, concurrency=8, backup=False).start()
    _throttle(emulator)
    time.sleep(1.5)
    started = time.monotonic()
    run.cancel()
    results = run.wait(10)
    assert time.monotonic() - started < 2
    assert run.done
    sent = emulator.count("DELETE")
    assert {r["error_code"] for r in results.values()} <= {errors.CANCELLED}
    assert len(results) == 40
    assert all(r["error_msg"].startswith("Not sent") for r in results.values())
    assert emulator.store.names() == set(names)
    time.sleep(1)
    assert emulator.count("DELETE") == sent


def test_widget_stop_during_throttling(emulator: Emulator) -> None:
    names = _fill(emulator, 30)
    widget = JobConfigTable(session=_session(emulator), backup=False)
    widget.wait_loaded(10)
    widget.selected = names
    _throttle(emulator)
    widget.delete_selected(wait=False)
    time.sleep(1.5)
    started = time.monotonic()
    widget.stop()
    assert widget._finished.wait(5)
    assert time.monotonic() - started < 2
    sent = emulator.count("DELETE")
    time.sleep(1)
    assert emulator.count("DELETE") == sent
    assert emulator.store.names() == set(names)
    assert {s[0] for n, s in widget._statuses.items() if n in names} == {"cancelled"}


def test_ctrl_c_in_the_magic_during_long_retry_after(
    emulator: Emulator, emulator_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    names = _fill(emulator, 20, "tmp")
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "modelarts_widgets")
    emulator.injector.update(
        {"error_rate": 1.0, "kinds": ["429"], "retry_after_value": "50", "fault_methods": ["DELETE"]}
    )
    timer = threading.Timer(1.5, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    try:
        report = shell.run_line_magic("modelarts_delete", "--match tmp-* --yes --no-backup")
    finally:
        timer.cancel()
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 2
    assert "nothing more is sent" in capsys.readouterr().err
    assert "nothing more was sent" in repr(report)
    sent = emulator.count("DELETE")
    time.sleep(1)
    assert emulator.count("DELETE") == sent
    assert set(report) == set(names)
    assert report.deleted == []
    assert emulator.store.names() == set(names)


# -- 5. a total deadline ---------------------------------------------------------------------------


def test_a_trickling_server_cannot_hold_a_call_past_the_deadline(emulator: Emulator) -> None:
    session = _session(emulator, timeout=(1, 2))
    emulator.injector.update({"trickle": 0.2})
    started = time.monotonic()
    result = Estimator.get_job_configs_list(session)
    elapsed = time.monotonic() - started
    assert result["error_code"] == errors.TIMEOUT
    assert elapsed < 3 + 1.0, elapsed  # connect + read, and a little


def test_trickled_refusals_cannot_stretch_a_call_past_its_deadline(emulator: Emulator) -> None:
    # Each refusal arrives just inside one exchange's deadline; resending them must not add up.
    session = _session(emulator, timeout=(1, 2))
    emulator.injector.update(
        {"error_rate": 1.0, "kinds": ["503"], "retry_after": 0.1, "trickle": 0.01, "seed": 1}
    )
    started = time.monotonic()
    result = Estimator.get_job_configs_list(session)
    elapsed = time.monotonic() - started
    assert result["is_success"] is False
    assert elapsed < 3 + 0.1 * 5 + 1.0, elapsed  # one deadline, the waits asked for, a little


def test_no_credentials_fails_fast_when_the_metadata_service_trickles(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELARTS_METADATA_DISABLED")
    monkeypatch.setenv("MODELARTS_METADATA_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("MODELARTS_SDK_PATHS", "/nonexistent")
    emulator.injector.update({"trickle": 0.1})
    started = time.monotonic()
    with pytest.raises(AuthenticationError, match="metadata service"):
        Session()
    assert time.monotonic() - started < 2


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


def _private_ca(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA of our own and a server certificate for 127.0.0.1 signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test private CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return ca_file, context


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
    emulator.injector.update({"latency": 0.8})
    widget = JobConfigTable(session=session)
    loader = widget._loader
    assert loader is not None
    time.sleep(0.2)
    widget.refresh()  # again, during the load: the first one is dropped
    assert widget._loader is not loader
    time.sleep(1.2)  # the new load's first page is in; the next two are in flight
    widget.stop()
    started = time.monotonic()
    widget.wait_loaded(5)
    assert time.monotonic() - started < 2.5  # the pages in flight (0.8 s each), no more
    assert widget.phase == "ready"
    assert widget.error["code"] == errors.CANCELLED
    assert len(widget.rows) in (1000, 2000, 2500)
    sent = emulator.count("GET")
    time.sleep(1)
    assert emulator.count("GET") == sent
    loader.join(5)
    assert not loader.is_alive()
    emulator.injector.update({"latency": 0.0})
    widget.refresh()
    widget.wait_loaded(10)
    assert widget.phase == "ready"
    assert len(widget.rows) == 2500
    assert widget.error == {}


# -- 9. single-flight renewal ----------------------------------------------------------------------


def test_one_expiry_during_an_eight_way_delete_is_one_login(emulator: Emulator) -> None:
    emulator.identities.users[("acct", "bob")] = "bob-password-1"
    session = Session(
        account="acct",
        username="bob",
        password="bob-password-1",
        region_name=emulator.region,
        modelarts_endpoint=emulator.endpoint,
        iam_endpoint=emulator.endpoint,
    )
    names = _fill(emulator, 40)
    emulator.faults.latency = 0.05
    expiring_token(emulator, -1)
    results = BulkDelete(session, names, concurrency=8, backup=False).run()
    assert all(r["is_success"] for r in results.values())
    logins = [p for m, p, _ in emulator.requests if m == "POST" and p.startswith("/v3/auth/tokens")]
    assert len(logins) == 2  # the first, and one renewal


# -- 10. the pool, and credentials HTTP cannot carry -----------------------------------------------


def test_the_pool_grows_with_the_concurrency(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    names = _fill(emulator, 200)
    emulator.faults.latency = 0.02
    session = _session(emulator)
    results = BulkDelete(session, names, concurrency=32).run()
    assert all(r["is_success"] for r in results.values())
    assert session.pool_size >= 64
    full = [r for r in caplog.records if "pool is full" in r.getMessage()]
    assert full == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secret_key", "sk\u2019SECRET-x"),
        ("access_key", "AK\u00a0\u4e2d"),
        ("security_token", "tok\nSECRET-x"),
    ],
)
def test_credentials_http_cannot_carry_are_refused_at_session(
    emulator: Emulator, field: str, value: str
) -> None:
    kwargs = {"access_key": "AK", "secret_key": "SK", field: value}
    with pytest.raises(AuthenticationError) as caught:
        Session(**kwargs, project_id="p", modelarts_endpoint=emulator.endpoint, environ={})  # type: ignore[arg-type]
    assert caught.value.error_code == errors.BAD_CREDENTIALS
    assert field.replace("_", " ") in str(caught.value)
    assert "SECRET" not in str(caught.value)
    assert emulator.requests == []


# -- 11. notebook auto-auth finds the real SDK -----------------------------------------------------


def test_a_modelarts_folder_in_the_working_directory_does_not_hide_the_sdk(
    emulator: Emulator,
    official_sdk: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "work"
    (work / "modelarts").mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))
    import importlib

    importlib.import_module("modelarts")  # the namespace package, as a notebook cell might
    session = Session()
    assert session.auth_source == "ModelArts notebook (official SDK session)"
    assert Estimator.get_job_configs_list(session)["is_success"] is True


def test_a_failed_sdk_import_does_not_stick(
    emulator: Emulator,
    official_sdk: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "work"
    (work / "modelarts").mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))
    real = os.environ["MODELARTS_SDK_PATHS"]
    monkeypatch.setenv("MODELARTS_SDK_PATHS", str(tmp_path / "not-yet-installed"))
    with pytest.raises(AuthenticationError, match="official modelarts SDK"):
        Session()  # no SDK anywhere yet: right to fail
    monkeypatch.setenv("MODELARTS_SDK_PATHS", real)  # now it is there
    assert Session().auth_source == "ModelArts notebook (official SDK session)"
    assert getattr(sys.modules["modelarts"], "__file__", None)
