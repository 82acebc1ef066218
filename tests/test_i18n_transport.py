"""The transport layer's failures and hints in Chinese: what a user of the zh-CN kernel reads."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import (
    AuthenticationError,
    ModelArtsError,
    Session,
    TransportError,
    errors,
    list_all_configs,
)
from modelarts_widgets.sdk.credentials import AccessKeyCredentials
from modelarts_widgets.sdk.transport import ApiClient


@pytest.fixture(autouse=True)
def chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELARTS_LANGUAGE", "zh-CN")


@pytest.fixture
def elsewhere() -> Iterator[Emulator]:
    with Emulator(configs=0) as em:
        yield em


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_endpoint_in_chinese() -> None:
    port = _closed_port()
    with pytest.raises(TransportError) as caught:
        ApiClient(f"http://127.0.0.1:{port}", None).call("GET", "/x")
    error = caught.value
    assert error.error_code == errors.UNREACHABLE
    assert (
        error.error_msg == f"发往 127.0.0.1:{port} 的请求 GET /x 失败：连接被拒绝（该地址上没有服务在监听）"
    )
    assert error.hint.startswith("未发送任何请求。请检查 MODELARTS_ENDPOINT")
    assert str(error).endswith(error.hint)


def test_a_redirect_in_chinese_and_nothing_follows_it(emulator: Emulator, elsewhere: Emulator) -> None:
    session = Session(environ=emulator.env())
    emulator.injector.update({"redirect_to": elsewhere.endpoint, "redirect_status": 302})
    with pytest.raises(TransportError) as caught:
        list_all_configs(session)
    error = caught.value
    assert error.error_code == errors.REDIRECTED
    host = elsewhere.endpoint.split("://")[1]
    assert error.error_msg.startswith(f"发往 {emulator.endpoint.split('://')[1]} 的请求 GET /v1/")
    assert error.error_msg.endswith(
        f"收到重定向响应（HTTP 302），指向 {host}；本客户端不跟随重定向：请检查终端节点地址"
    )
    assert "本客户端从不跟随重定向" in error.hint
    assert elsewhere.requests == []


def test_bad_endpoints_and_keys_in_chinese(emulator: Emulator) -> None:
    with pytest.raises(ModelArtsError) as caught:
        Session(environ={**emulator.env(), "MODELARTS_ENDPOINT": "https://me:pw@example.com"})
    assert caught.value.error_msg.startswith(
        "ModelArts 终端节点（MODELARTS_ENDPOINT）中包含用户名或密码（https://***@example.com）；未发送任何请求。"
    )
    assert "pw" not in str(caught.value)
    with pytest.raises(AuthenticationError) as refused:
        AccessKeyCredentials("AK\n", "SK")
    assert refused.value.error_msg == "访问密钥 ID（AK）的第 3 个字符是换行符或控制字符，无法放入 HTTP 头发送"
    with pytest.raises(ValueError, match="max_retries 应为 0 或更大的整数，当前为 -1"):
        Session(environ=emulator.env(), max_retries=-1)
