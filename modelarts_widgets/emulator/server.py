"""A local ModelArts: the v1 training-job-configs API, IAM tokens and the metadata service over HTTP.

It verifies AK/SK signatures, security tokens and IAM tokens as the real gateway does, and can
inject faults. It binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
import re
import secrets
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from . import contract, verify
from .faults import FaultInjector, Faults
from .seed import seed_configs
from .store import ApiFailure, ConfigStore

DEFAULT_PROJECT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
DEFAULT_REGION = "cn-north-4"
DEFAULT_AK = "EMULATORAK0000000001"
DEFAULT_SK = "emulator-secret-key-0001"
MAX_SKEW = 15 * 60

MALFORMED = {
    "html": (502, "text/html", b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"),
    "badjson": (200, "application/json", b'{"is_success": true, "configs": [{"config_na'),
    "empty": (200, "application/json", b""),
    "noenvelope": (200, "application/json", b"{}"),
}

_CONFIGS = re.compile(r"^/v1/(?P<project>[^/]+)/training-job-configs(?:/(?P<name>[^/]*))?/?$")
_CATALOG = re.compile(r"^/v1/(?P<project>[^/]+)/job/(?P<what>resource-specs|ai-engines)/?$")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class TemporaryKey:
    secret: str
    token: str
    expires_at: float


@dataclass
class Identities:
    """Who may call: permanent keys, issued temporary keys, IAM users and issued tokens."""

    keys: dict[str, str] = field(default_factory=lambda: {DEFAULT_AK: DEFAULT_SK})
    temporary: dict[str, TemporaryKey] = field(default_factory=dict)
    users: dict[tuple[str, str], str] = field(default_factory=dict)  # (domain, user) -> password
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expires_at
    temporary_ttl: float = 900.0
    token_ttl: float = 86_400.0
    metadata_hardened: bool = True
    metadata_tokens: set[str] = field(default_factory=set)
    metadata_requests: int = 0

    def issue_temporary(self) -> tuple[str, TemporaryKey]:
        access = "TMP" + secrets.token_hex(8).upper()
        key = TemporaryKey(
            secrets.token_urlsafe(24), secrets.token_urlsafe(48), time.time() + self.temporary_ttl
        )
        self.temporary[access] = key
        return access, key

    def issue_token(self) -> tuple[str, float]:
        token = "MIIT" + secrets.token_urlsafe(96)
        expires = time.time() + self.token_ttl
        self.tokens[token] = expires
        return token, expires

    def revoke_all(self) -> None:
        """Make every issued and permanent credential invalid (a revoked key, a changed password)."""
        self.keys.clear()
        self.temporary.clear()
        self.tokens.clear()


class _Dropped(Exception):
    """Close the connection without an answer."""


class Emulator:
    """The emulator; use it as a context manager or call :meth:`start` and :meth:`stop`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        configs: int = 40,
        seed: int = 0,
        project_id: str = DEFAULT_PROJECT,
        region: str = DEFAULT_REGION,
        faults: Faults | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.ssl_context = ssl_context  # serve HTTPS with this server-side context
        self.project_id, self.region = project_id, region
        self.store = ConfigStore(seed_configs(configs, seed=seed), seed_configs(3, seed=seed + 1))
        self.injector = FaultInjector(faults)
        self.identities = Identities()
        self.requests: list[tuple[str, str, int]] = []  # (method, path?query, status), in order
        self.received: list[tuple[str, str, Any]] = []  # (method, config name, JSON body) of creates/updates
        self._log_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        return self.injector.faults

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that point the SDK core at this emulator with AK/SK."""
        ak, sk = next(iter(self.identities.keys.items()))
        return {
            "MODELARTS_ENDPOINT": self.endpoint,
            "HUAWEICLOUD_SDK_IAM_ENDPOINT": self.endpoint,
            "MODELARTS_REGION": self.region,
            "HUAWEICLOUD_SDK_AK": ak,
            "HUAWEICLOUD_SDK_SK": sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": self.project_id,
        }

    def start(self) -> Emulator:
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        if self.ssl_context is not None:
            # The handshake runs on the handler's thread, at its first read.
            self._server.socket = self.ssl_context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="modelarts-emulator", daemon=True
        )
        self._thread.start()
        return self

    def hold(self, *operations: str) -> None:
        """Hold every later request of ``operations`` ("delete", "get", "list", "create",
        "update") in flight, authenticated but not yet performed, until :meth:`release`."""
        self.injector.update({"hold": list(operations)})

    def wait_held(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until ``count`` requests are held (``TimeoutError`` after ``timeout`` seconds)."""
        self.injector.wait_held(count, timeout)

    def release(self, keep_holding: bool = False) -> None:
        """Let the held requests go on; hold nothing more, unless ``keep_holding`` (then later
        requests of the same operations are held again, e.g. a listing's next pages)."""
        self.injector.release(keep_holding)

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self.requests.append((method, path, status))

    def count(self, method: str, name: str | None = None) -> int:
        """How many ``method`` requests reached the configs API (for ``name`` if given)."""
        suffix = f"/training-job-configs/{name}" if name else "/training-job-configs"
        with self._log_lock:
            paths = [p.partition("?")[0] for m, p, _ in self.requests if m == method]
        return sum(1 for p in paths if (p.endswith(suffix) if name else suffix in p))

    def now(self) -> float:
        return time.time() + self.faults.clock_offset


class _Handler(BaseHTTPRequestHandler):
    emulator: Emulator
    protocol_version = "HTTP/1.1"
    server_version = "ModelArtsEmulator/1.0"
    # Headers and body go out in two writes; with Nagle's algorithm and the client's delayed
    # ACK that costs about 40 ms per keep-alive request, which real servers do not add.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is kept in Emulator.requests; stderr stays quiet

    # -- plumbing ----------------------------------------------------------------------------

    def _body(self) -> bytes:
        """The request body; ValueError when Content-Length is not a number of bytes (RFC 9110)."""
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not re.fullmatch(r"[0-9]+", raw.strip()):
            raise ValueError(f"Content-Length {raw[:20]!r} is not a number of bytes")
        length = int(raw)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        # Logged before answering, so a client that has its answer also finds it in the log.
        self.emulator.log(self.command, self.path, status)
        trickle = self.emulator.faults.trickle if not self.path.startswith("/_emulator/") else 0.0
        if trickle > 0:
            self._trickled(status, data, headers or {}, trickle)
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-request-id", secrets.token_hex(8))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has the headers of the body, not the body
            self.wfile.write(data)

    def _trickled(self, status: int, data: bytes, headers: Mapping[str, str], pause: float) -> None:
        """The whole answer, status line included, one byte every ``pause`` seconds."""
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        all_headers = {"Content-Type": "application/json;charset=utf-8", "Content-Length": str(len(data))}
        lines += [f"{k}: {v}" for k, v in {**all_headers, **headers}.items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data
        self.close_connection = True
        try:
            for index in range(len(raw)):
                self.wfile.write(raw[index : index + 1])
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass  # the client gave up, as it should

    def _redirect(self) -> bool:
        target = self.emulator.faults.redirect_to
        if not target:
            return False
        self._send(
            self.emulator.faults.redirect_status,
            {"error_msg": "moved"},
            {"Location": target.rstrip("/") + self.path},
        )
        return True

    def _fail(
        self,
        status: int,
        code: str,
        message: str,
        *,
        gateway: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        body: dict[str, Any]
        if gateway:
            body = {"error_msg": message, "error_code": code, "request_id": secrets.token_hex(16)}
        else:
            body = {"is_success": False, "error_message": message, "error_code": code}
        self._send(status, body, headers)

    def _drop(self) -> None:
        self.close_connection = True
        self.emulator.log(self.command, self.path, 0)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # The API has no other method: the gateway's 404 (http.server would send a 501 HTML page).
    def _other_method(self) -> None:
        self.close_connection = True  # a body, if one was sent, is left unread
        self._fail(404, "APIGW.0101", "The API does not exist or has not been published", gateway=True)

    def do_HEAD(self) -> None:
        self._other_method()

    def do_PATCH(self) -> None:
        self._other_method()

    def do_OPTIONS(self) -> None:
        self._other_method()

    def do_TRACE(self) -> None:
        self._other_method()

    # -- routing -----------------------------------------------------------------------------

    def _dispatch(self) -> None:
        try:
            body = self._body()
        except ValueError as exc:
            self.close_connection = True  # where this request ends in the stream is unknown
            self._fail(400, "ModelArts.0101", f"Invalid Argument. {exc}")
            return
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/_emulator/"):
                self._control(url.path, body)
            elif self._redirect():
                pass
            elif url.path.startswith(("/openstack/", "/meta-data/")):
                self._metadata(url.path)
            elif url.path == "/v3" or url.path.startswith(("/v3/", "/v3.0/")):
                self._iam(url.path, url.query, body)
            elif _CONFIGS.match(url.path):
                self._configs(url.path, url.query, body)
            elif _CATALOG.match(url.path):
                self._catalog(url.path, url.query, body)
            else:
                self._fail(
                    404, "APIGW.0101", "The API does not exist or has not been published", gateway=True
                )
        except _Dropped:
            self._drop()
        except ApiFailure as failure:
            self._fail(failure.status, failure.code, failure.message)
        except verify.BadRequestText as exc:
            self._fail(400, "ModelArts.0101", f"Invalid Argument. {exc}")

    def _control(self, path: str, body: bytes) -> None:
        em = self.emulator
        if path == "/_emulator/state" and self.command == "GET":
            self._send(200, {"configs": sorted(em.store.names()), "faults": em.faults.as_dict()})
        elif path == "/_emulator/reset" and self.command == "POST":
            try:
                options = json.loads(body or b"{}")
                configs = seed_configs(int(options.get("configs", 0)), seed=int(options.get("seed", 0)))
            except (ValueError, TypeError) as exc:
                self._send(400, {"error": str(exc)})
                return
            em.store.replace(configs)
            em.injector.faults = Faults()
            with em._log_lock:
                em.requests.clear()
                em.received.clear()
            self._send(200, {"configs": len(configs)})
        elif path == "/_emulator/faults" and self.command in ("POST", "PUT"):
            try:
                faults = em.injector.update(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                self._send(400, {"error": str(exc)})
                return
            self._send(200, faults.as_dict())
        else:
            self._send(404, {"error": "unknown control path"})

    # -- metadata service ----------------------------------------------------------------------

    def _metadata(self, path: str) -> None:
        ids = self.emulator.identities
        if path == "/meta-data/latest/api/token" and self.command == "PUT":
            if not ids.metadata_hardened:
                self._send(404, {"error": "not supported"})
                return
            token = secrets.token_urlsafe(24)
            ids.metadata_tokens.add(token)
            data = token.encode()
            if self.emulator.faults.trickle > 0:
                self.emulator.log(self.command, self.path, 200)
                self._trickled(200, data, {"Content-Type": "text/plain"}, self.emulator.faults.trickle)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if ids.metadata_hardened and self.headers.get("X-Metadata-Token") not in ids.metadata_tokens:
            self._send(401, {"error": "metadata token required"})
            return
        if path == "/openstack/latest/securitykey":
            ids.metadata_requests += 1
            access, key = ids.issue_temporary()
            self._send(
                200,
                {
                    "credential": {
                        "access": access,
                        "secret": key.secret,
                        "securitytoken": key.token,
                        "expires_at": _iso(key.expires_at),
                    }
                },
            )
        elif path == "/openstack/latest/meta_data.json":
            self._send(200, {"project_id": self.emulator.project_id, "region_id": self.emulator.region})
        else:
            self._send(404, {"error": "not found"})

    # -- IAM -----------------------------------------------------------------------------------

    def _iam(self, path: str, query: str, body: bytes) -> None:
        em = self.emulator
        if path.rstrip("/") == "/v3" and self.command == "GET":
            self._send(200, {"version": self._iam_version()})
        elif path == "/v3/auth/tokens" and self.command == "POST":
            self._password_token(body, verify.parse_query(query))
        elif path == "/v3/projects" and self.command == "GET":
            if self._authenticate(body) is not None:
                return
            name = dict(verify.parse_query(query)).get("name")
            projects = [{"id": em.project_id, "name": em.region}] if name in (None, em.region) else []
            self._send(200, {"projects": projects})
        else:
            self._send(404, {"error": {"code": 404, "message": "not found"}})

    def _iam_version(self) -> dict[str, Any]:
        return {
            "id": "v3.0",
            "status": "stable",
            "updated": "2013-03-06T00:00:00Z",
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
            "links": [{"rel": "self", "href": f"{self.emulator.endpoint}/v3/"}],
        }

    def _service_catalog(self) -> list[dict[str, Any]]:
        em = self.emulator

        def entry(kind: str, url: str) -> dict[str, Any]:
            endpoint = {"id": secrets.token_hex(16), "interface": "public", "region": em.region}
            endpoint.update(region_id=em.region, url=url)
            return {"type": kind, "name": kind, "id": secrets.token_hex(16), "endpoints": [endpoint]}

        # modelartsv1 is the type otcextensions looks up, with the project in the URL.
        return [
            entry("identity", f"{em.endpoint}/v3"),
            entry("modelarts", f"{em.endpoint}/v1/{em.project_id}"),
            entry("modelartsv1", f"{em.endpoint}/v1/{em.project_id}"),
        ]

    def _password_token(self, body: bytes, query: list[tuple[str, str]]) -> None:
        em = self.emulator
        try:
            auth = json.loads(body)["auth"]
            user = auth["identity"]["password"]["user"]
            key = (user["domain"]["name"], user["name"])
            scope = auth["scope"]["project"]
        except (ValueError, KeyError, TypeError):
            self._send(400, {"error": {"code": 400, "message": "The request body is invalid."}})
            return
        known = em.identities.users.get(key)
        given = user.get("password")
        # An unknown user has no password: a request without one must not match that absence.
        if (
            known is None
            or not isinstance(given, str)
            or not secrets.compare_digest(known.encode("utf-8"), given.encode("utf-8"))
        ):
            self._send(401, {"error": {"code": 401, "message": "The username or password is wrong."}})
            return
        if scope.get("id", em.project_id) != em.project_id or scope.get("name", em.region) != em.region:
            self._send(400, {"error": {"code": 400, "message": "The project does not exist."}})
            return
        token, expires = em.identities.issue_token()
        domain = {"id": "d" + em.project_id[1:], "name": key[0]}
        answer: dict[str, Any] = {
            "expires_at": _iso(expires),
            "issued_at": _iso(time.time()),
            "methods": ["password"],
            "user": {"id": f"u-{key[0]}-{key[1]}", "name": key[1], "domain": domain},
            "project": {"id": em.project_id, "name": em.region, "domain": domain},
            "roles": [{"id": "0", "name": "op_user"}],
        }
        if dict(query).get("nocatalog") != "true":
            answer["catalog"] = self._service_catalog()
        self._send(201, {"token": answer}, {"X-Subject-Token": token})

    # -- authentication --------------------------------------------------------------------------

    def _authenticate(self, body: bytes) -> str | None:
        """Check the request's credentials; on failure send the gateway's answer and say why."""
        em = self.emulator
        ids = em.identities
        token = self.headers.get("X-Auth-Token")
        if token:
            expires = ids.tokens.get(token)
            if expires is None:
                self._fail(401, "ModelArts.0203", "Invalid token.")
                return "bad token"
            if expires < time.time():
                self._fail(401, "ModelArts.0202", "Invalid Token header. Token expired, please refresh it.")
                return "expired token"
            return None
        parts = verify.parse_authorization(self.headers.get("Authorization", ""))
        if parts is None:
            self._fail(
                401,
                "APIGW.0301",
                "Incorrect IAM authentication information: no valid Authorization header",
                gateway=True,
            )
            return "no auth"
        access = parts["Access"]
        secret = ids.keys.get(access)
        temporary = ids.temporary.get(access)
        if secret is None and temporary is None:
            self._fail(
                401,
                "APIGW.0301",
                "Incorrect IAM authentication information: unknown access key",
                gateway=True,
            )
            return "unknown key"
        date = self.headers.get("X-Sdk-Date", "")
        try:
            signed_at = datetime.strptime(date, verify.DATE_FORMAT).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            self._fail(
                401, "APIGW.0301", "Incorrect IAM authentication information: bad X-Sdk-Date", gateway=True
            )
            return "bad date"
        if abs(em.now() - signed_at) > MAX_SKEW:
            self._fail(
                401, "APIGW.0303", "Incorrect app authentication information: signature expired", gateway=True
            )
            return "skew"
        signed_names = parts["SignedHeaders"].split(";")
        if not {"host", "x-sdk-date"} <= set(signed_names):
            self._fail(
                401,
                "APIGW.0301",
                "Incorrect IAM authentication information: host and x-sdk-date must be signed",
                gateway=True,
            )
            return "unsigned headers"
        if temporary is not None:
            if (
                self.headers.get("X-Security-Token") != temporary.token
                or "x-security-token" not in signed_names
            ):
                self._fail(
                    401,
                    "APIGW.0301",
                    "Incorrect IAM authentication information: security token missing or wrong",
                    gateway=True,
                )
                return "security token"
            if temporary.expires_at < em.now():
                self._fail(
                    401,
                    "APIGW.0301",
                    "Incorrect IAM authentication information: the security token has expired",
                    gateway=True,
                )
                return "expired temporary key"
            secret = temporary.secret
        # Only signed values are decoded: an unsigned header is no part of the signature.
        headers = {
            name.lower(): verify.header_value(value) if name.lower() in signed_names else value
            for name, value in self.headers.items()
        }
        missing = [n for n in signed_names if n not in headers]
        if missing:
            self._fail(
                401,
                "APIGW.0301",
                "Incorrect IAM authentication information: signed header missing",
                gateway=True,
            )
            return "missing header"
        url = urlsplit(self.path)
        assert secret is not None
        expected = verify.expected_signature(
            secret=secret,
            method=self.command,
            path=url.path,
            raw_query=url.query,
            headers=headers,
            signed_headers=signed_names,
            body=body,
            date=date,
        )
        if not secrets.compare_digest(expected, parts["Signature"]):
            self._fail(
                401,
                "APIGW.0301",
                "Incorrect IAM authentication information: verify aksk signature fail",
                gateway=True,
            )
            return "signature"
        return None

    # -- the training-job-configs API ------------------------------------------------------------

    def _configs(self, path: str, query: str, body: bytes) -> None:
        em = self.emulator
        injector = em.injector
        if injector.throttled():
            self._fail(
                429,
                "APIG.0308",
                "The throttling threshold has been reached: policy user over ratelimit,limit:"
                f"{em.faults.rate_limit:g},time:1 second",
                gateway=True,
                headers={"Retry-After": em.faults.retry_after_header()},
            )
            return
        fault = injector.random_fault(self.command)
        if fault == "drop":
            raise _Dropped
        if fault in MALFORMED:
            self._malformed(fault)
            return
        if fault in ("429", "500", "503"):
            status = int(fault)
            extra = {"Retry-After": em.faults.retry_after_header()} if status in (429, 503) else {}
            if status == 503:  # no ModelArts code is documented for 503: the gateway's body, no code
                body_503 = {
                    "error_msg": "Service Unavailable (injected fault)",
                    "request_id": secrets.token_hex(16),
                }
                self._send(status, body_503, extra)
                return
            code = {429: "ModelArts.6101", 500: "ModelArts.0010"}[status]
            self._fail(status, code, "Injected fault", headers=extra)
            return
        if em.faults.latency:
            time.sleep(em.faults.latency)
        if self._authenticate(body) is not None:
            return
        match = _CONFIGS.match(path)
        assert match is not None
        if match["project"] != em.project_id:
            self._fail(403, "ModelArts.0210", "The project id in the request URL does not match the token.")
            return
        name = match["name"]
        params = dict(verify.parse_query(query))
        operation = {
            ("GET", False): "list",
            ("POST", False): "create",
            ("GET", True): "get",
            ("PUT", True): "update",
            ("DELETE", True): "delete",
        }.get((self.command, bool(name)))
        if operation is None:
            self._fail(404, "APIGW.0101", "The API does not exist or has not been published", gateway=True)
            return
        if operation in em.faults.deny:
            self._fail(
                403,
                "ModelArts.0108",
                f"You are not authorized to perform the (modelarts:trainConfig:{operation}) operation.",
            )
            return
        if name and name in em.faults.fail_names and operation == "delete":
            status, code, message = em.faults.fail_names[name]
            self._fail(int(status), str(code), str(message))
            return
        if operation in em.faults.hold:
            injector.hold_here()
        if operation == "create" and not name:
            name = _body_name(body)
        if fault == "drop_after" or (
            operation in ("delete", "create") and name and injector.take_drop_after(name)
        ):
            self._perform(operation, name, params, body)
            raise _Dropped
        self._send(200, self._perform(operation, name, params, body))

    def _catalog(self, path: str, query: str, body: bytes) -> None:
        """``GET /v1/{project_id}/job/resource-specs`` and ``.../job/ai-engines`` (``job_type=train``)."""
        em = self.emulator
        if self._authenticate(body) is not None:
            return
        match = _CATALOG.match(path)
        assert match is not None
        if self.command != "GET":
            self._fail(404, "APIGW.0101", "The API does not exist or has not been published", gateway=True)
            return
        if match["project"] != em.project_id:
            self._fail(403, "ModelArts.0210", "The project id in the request URL does not match the token.")
            return
        job_type = dict(verify.parse_query(query)).get("job_type", "train")
        if job_type not in ("train", "inference"):
            self._fail(400, "ModelArts.0101", "Invalid Argument. job_type is train or inference.")
            return
        answer = contract.specs_answer() if match["what"] == "resource-specs" else contract.engines_answer()
        self._send(200, answer)

    def _malformed(self, kind: str) -> None:
        status, content_type, data = MALFORMED[kind]
        self.emulator.log(self.command, self.path, status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _listed(self, answer: bytes) -> bytes:
        faults = self.emulator.faults
        if faults.total_count is not None:
            answer = re.sub(
                rb'"config_total_count": \d+',
                f'"config_total_count": {faults.total_count}'.encode(),
                answer,
                count=1,
            )
        if faults.null_when_empty:
            answer = answer.replace(b'"configs": []', b'"configs": null')
        return answer

    def _perform(
        self, operation: str, name: str | None, params: dict[str, str], body: bytes
    ) -> dict[str, Any] | bytes:
        store = self.emulator.store
        if operation == "list":
            return self._listed(store.list(params))
        if operation == "get":
            return store.get(str(name), params.get("config_type"))
        if operation == "delete":
            return store.delete(str(name))
        try:
            payload = json.loads(body or b"{}", parse_constant=_not_json)
        except ValueError:
            raise ApiFailure(400, "ModelArts.0101", "Invalid Argument. The body is not JSON.") from None
        if not isinstance(payload, dict):
            raise ApiFailure(400, "ModelArts.0101", "Invalid Argument. The body must be an object.")
        with self.emulator._log_lock:
            self.emulator.received.append((self.command, str(name or payload.get("config_name")), payload))
        if operation == "create":
            return store.create(payload)
        return store.update(str(name), payload)


def _body_name(body: bytes) -> str | None:
    """The config_name of a create body, for faults aimed at one name (None if unreadable)."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return None
    name = payload.get("config_name") if isinstance(payload, dict) else None
    return name if isinstance(name, str) else None


def _not_json(constant: str) -> Any:
    """Python's json reads NaN, Infinity and -Infinity; JSON has no such numbers."""
    raise ValueError(f"{constant} is not a JSON value")


def expiring_token(emulator: Emulator, seconds: float) -> None:
    """Shorten every issued IAM token's remaining life to ``seconds`` (for expiry tests)."""
    ids = emulator.identities
    for token in ids.tokens:
        ids.tokens[token] = time.time() + seconds


__all__ = ["Emulator", "Faults", "expiring_token"]
