"""Answers that are not the happy path: gateway pages, bad JSON, empty bodies, aliases, retries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from modelarts_widgets.sdk import ModelArtsError, Session, TransportError, errors
from modelarts_widgets.sdk.bulk import list_all_configs
from modelarts_widgets.sdk.credentials import AccessKeyCredentials
from modelarts_widgets.sdk.transport import ApiClient, default_retry, new_http_session

# path -> (status, content type, body bytes, extra headers)
Reply = tuple[int, str, bytes, dict[str, str]]


class _Scripted(BaseHTTPRequestHandler):
    replies: dict[str, list[Reply]]
    seen: list[str]

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        queue = self.replies[self.path.split("?")[0]]
        status, content_type, body, headers = queue.pop(0) if len(queue) > 1 else queue[0]
        cut = headers.get("X-Cut-Off") == "yes"  # promise more than is sent, then hang up
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) * (10 if cut else 1)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = cut

    do_GET = do_DELETE = _reply


@pytest.fixture
def scripted() -> Iterator[tuple[str, dict[str, list[Reply]], list[str]]]:
    replies: dict[str, list[Reply]] = {}
    seen: list[str] = []
    handler = type("Handler", (_Scripted,), {"replies": replies, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", replies, seen
    server.shutdown()
    server.server_close()


def _client(base: str) -> ApiClient:
    return ApiClient(
        base, AccessKeyCredentials("AK", "SK"), http=new_http_session(), retry=default_retry(3, 0.01)
    )


def _json(status: int, body: object, **headers: str) -> Reply:
    return (status, "application/json", json.dumps(body).encode(), headers)


def test_gateway_html_page_becomes_a_clear_error(
    scripted: tuple[str, dict[str, list[Reply]], list[str]],
) -> None:
    base, replies, _ = scripted
    page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    replies["/x"] = [(502, "text/html", page, {})]
    with pytest.raises(TransportError) as caught:
        _client(base).call("GET", "/x")
    assert "text/html page titled '502 Bad Gateway'" in str(caught.value)
    assert caught.value.status == 502


def test_non_json_success_is_a_bad_response(scripted: tuple[str, dict[str, list[Reply]], list[str]]) -> None:
    base, replies, _ = scripted
    replies["/x"] = [(200, "text/plain", b"OK", {})]
    with pytest.raises(TransportError) as caught:
        _client(base).call("GET", "/x")
    assert caught.value.error_code == errors.BAD_RESPONSE


def test_json_array_is_a_bad_response(scripted: tuple[str, dict[str, list[Reply]], list[str]]) -> None:
    base, replies, _ = scripted
    replies["/x"] = [_json(200, [1, 2])]
    with pytest.raises(TransportError, match="not a JSON object"):
        _client(base).call("GET", "/x")


def test_empty_or_envelope_less_success_proves_nothing(
    scripted: tuple[str, dict[str, list[Reply]], list[str]],
) -> None:
    base, replies, _ = scripted
    replies["/x"] = [(200, "application/json", b"", {})]
    with pytest.raises(TransportError, match="empty"):
        _client(base).call("DELETE", "/x")
    replies["/x"] = [_json(200, {})]
    with pytest.raises(TransportError, match="lacks the is_success"):
        _client(base).call("DELETE", "/x")
    replies["/x"] = [(204, "application/json", b"", {})]
    assert _client(base).call("DELETE", "/x") == {"is_success": True}


def test_empty_error_body_names_the_status(scripted: tuple[str, dict[str, list[Reply]], list[str]]) -> None:
    base, replies, _ = scripted
    replies["/x"] = [(404, "application/json", b"", {})]
    with pytest.raises(ModelArtsError) as caught:
        _client(base).call("DELETE", "/x")
    assert caught.value.error_code == "HTTP.404"


@pytest.mark.parametrize("key", ["error_msg", "error_message"])
def test_both_message_keys_are_read(
    scripted: tuple[str, dict[str, list[Reply]], list[str]], key: str
) -> None:
    base, replies, _ = scripted
    replies["/x"] = [
        _json(400, {"is_success": False, "error_code": "ModelArts.0104", key: "Parameter error."})
    ]
    with pytest.raises(ModelArtsError) as caught:
        _client(base).call("GET", "/x")
    assert caught.value.as_status() == {
        "is_success": False,
        "error_code": "ModelArts.0104",
        "error_msg": "Parameter error.",
    }


def test_http_200_with_is_success_false_is_a_failure(
    scripted: tuple[str, dict[str, list[Reply]], list[str]],
) -> None:
    base, replies, _ = scripted
    replies["/x"] = [
        _json(200, {"is_success": False, "error_code": "ModelArts.0105", "error_msg": "Error string"})
    ]
    with pytest.raises(ModelArtsError, match=r"ModelArts\.0105"):
        _client(base).call("DELETE", "/x")


def test_oversized_answers_are_refused(
    scripted: tuple[str, dict[str, list[Reply]], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelarts_widgets.sdk import transport

    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 1000)
    base, replies, _ = scripted
    replies["/x"] = [_json(200, {"configs": ["x" * 200_000]}), _json(200, {"is_success": True})]
    client = _client(base)
    with pytest.raises(TransportError, match="longer than the 1000 bytes"):
        client.call("DELETE", "/x")  # a DELETE is not read again
    assert client.call("GET", "/x") == {"is_success": True}  # the cut-off connection is not reused


def test_retry_after_is_honoured_for_deletes_too(
    scripted: tuple[str, dict[str, list[Reply]], list[str]],
) -> None:
    base, replies, seen = scripted
    replies["/x"] = [
        _json(429, {"error_code": "APIG.0308", "error_msg": "over ratelimit"}, **{"Retry-After": "1"}),
        _json(200, {"is_success": True}),
    ]
    started = time.monotonic()
    assert _client(base).call("DELETE", "/x") == {"is_success": True}
    assert time.monotonic() - started >= 0.9
    assert seen == ["DELETE /x", "DELETE /x"]


def test_uncertain_5xx_is_not_resent_for_a_delete(
    scripted: tuple[str, dict[str, list[Reply]], list[str]],
) -> None:
    base, replies, seen = scripted
    replies["/x"] = [_json(502, {"error_code": "APIG.0201", "error_msg": "backend timeout"})]
    with pytest.raises(ModelArtsError):
        _client(base).call("DELETE", "/x")
    assert seen == ["DELETE /x"]


def test_unreachable_endpoint_says_so() -> None:
    with pytest.raises(TransportError) as caught:
        _client("http://127.0.0.1:9").call("GET", "/x")
    assert "connection was refused" in str(caught.value)
    assert "MODELARTS_ENDPOINT" in str(caught.value)  # the hint


def test_list_answers_are_checked_and_trimmed(
    scripted: tuple[str, dict[str, list[Reply]], list[str]],
) -> None:
    base, replies, _ = scripted
    session = Session("AK", "SK", "p1", "r1", modelarts_endpoint=base, environ={})
    path = "/v1/p1/training-job-configs"
    replies[path] = [
        _json(
            200,
            {
                "is_success": True,
                "config_total_count": 1,
                "configs": [
                    {"config_name": "a", "config_desc": "d", "parameter": [{"label": "lr", "value": "1"}]}
                ],
            },
        )
    ]
    assert list_all_configs(session) == [{"config_name": "a", "config_desc": "d"}]
    for bad in ([{"config_desc": "no name"}], ["a"], {"a": 1}):
        replies[path] = [_json(200, {"is_success": True, "config_total_count": 1, "configs": bad})]
        with pytest.raises(TransportError) as caught:
            list_all_configs(session)
        assert caught.value.error_code == errors.BAD_RESPONSE


def test_answer_cut_off_mid_body_is_a_connection_failure(
    scripted: tuple[str, dict[str, list[Reply]], list[str]],
) -> None:
    base, replies, seen = scripted
    replies["/x"] = [_json(200, {"is_success": True, "configs": ["x" * 5000]}, **{"X-Cut-Off": "yes"})]
    with pytest.raises(TransportError) as caught:
        _client(base).call("DELETE", "/x")
    assert caught.value.error_code == errors.CONNECTION
    assert seen == ["DELETE /x"]  # not resent: the DELETE may have been carried out
