"""``Session``: who you are, which project and region, and where ModelArts is; mirrors the official SDK."""

from __future__ import annotations

import copy
import logging
import math
import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, Callable, ClassVar

from modelarts_widgets.i18n import t

from . import auth, endpoints, errors, settings
from .credentials import AccessKeyCredentials, Credentials, TokenCredentials
from .endpoints import first
from .throttle import InFlightGate
from .transport import (
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_TIMEOUT,
    FIRST_CONNECT_TIMEOUT,
    ApiClient,
    OnUnreachable,
    RetryPolicy,
    Verify,
    check_ca_bundle,
    check_endpoint,
    environment_proxies,
    new_http_session,
)

log = logging.getLogger("modelarts_widgets")

DEFAULT_POOL_SIZE = 16
MAX_TIMEOUT = 86400.0  # a day
PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy"})


class Session:
    """Authenticated access to one ModelArts project.

    The official SDK's modes, by keyword:

    * ``Session()``: automatic; inside a ModelArts notebook it uses the notebook's own
      credentials (see :attr:`auth_source` for what was found, and the README for the order).
    * ``Session(access_key=, secret_key=, project_id=, region_name=)``, with ``security_token=``
      for temporary credentials.
    * ``Session(username=, password=, region_name=, project_id=)``: account password, and
      ``Session(account=, username=, password=, ...)`` for an IAM user.

    ``verify`` is True (default) or the path of a CA bundle that exists; ``verify=False`` warns
    on every session.
    Without it, the CA bundle is ``MODELARTS_CA_BUNDLE``, else ``REQUESTS_CA_BUNDLE``, else
    ``CURL_CA_BUNDLE``, else certifi's. ``max_retries`` and ``backoff_factor`` tune the resends
    of refused (429/503) and failed requests; a ``Retry-After`` is honoured up to
    ``max_retry_wait`` seconds (default 60), and an answer asking for more ends the call at once
    (``Client.Throttled``). ``timeout=(connect, read)`` in seconds; each exchange ends at most
    ``connect + read`` seconds after it began, however slowly the server answers. Proxies come
    from ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` in ``environ``; ``~/.netrc`` is
    never read. Raises :class:`ModelArtsError` ``Client.BadEndpoint`` for an endpoint with a user
    name or password in it, and ``Client.BadCredentials`` for keys HTTP headers cannot carry.
    """

    _overrides: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        project_id: str | None = None,
        region_name: str | None = None,
        *,
        security_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        account: str | None = None,
        config_file: str | None = None,
        modelarts_endpoint: str | None = None,
        iam_endpoint: str | None = None,
        verify: Verify | None = None,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        pool_size: int = DEFAULT_POOL_SIZE,
        max_retries: int = 5,
        backoff_factor: float = 0.5,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = dict(os.environ if environ is None else environ)
        # Only the proxy settings are kept, inside a closure: a proxy URL may hold a password.
        proxy_env = {k: v for k, v in env.items() if k.lower() in PROXY_VARIABLES}

        def proxies_for(url: str) -> dict[str, str]:
            return environment_proxies(url, proxy_env)

        self._proxies_for = proxies_for
        if config_file is not None:
            env[settings.CONFIG_FILE] = config_file
        self.region_name = region_name or self._overrides.get("region_name") or first(env, settings.REGION)
        self._iam_override = (
            iam_endpoint or self._overrides.get("iam_endpoint") or first(env, settings.IAM_ENDPOINT)
        )
        # Checked before anything is sent: a password in an endpoint URL would go out with every call.
        if self._iam_override:
            self._iam_override = check_endpoint(self._iam_override, t("transport.iam_endpoint"))
        given_endpoint = (
            modelarts_endpoint or self._overrides.get("modelarts_endpoint") or first(env, settings.ENDPOINT)
        )
        if given_endpoint:
            given_endpoint = check_endpoint(given_endpoint, t("transport.modelarts_endpoint"))
        self._retry = RetryPolicy(max_retries, backoff_factor, max_retry_wait)
        if isinstance(timeout, (int, float)):
            timeout = (float(timeout), float(timeout))
        # Bounded: sockets, sleeps and the deadline watchdog overflow on values like 1e12.
        if not (len(timeout) == 2 and all(math.isfinite(t) and 0 < t <= MAX_TIMEOUT for t in timeout)):
            raise ValueError(t("transport.session_timeout", value=repr(timeout), limit=f"{MAX_TIMEOUT:g}"))
        if isinstance(verify, str):
            check_ca_bundle(verify, "verify")
        elif verify is None:
            project_ca = first(env, settings.CA_BUNDLE)
            if project_ca:
                check_ca_bundle(project_ca, settings.CA_BUNDLE)
            # The project's own CA first: requests would otherwise let REQUESTS_CA_BUNDLE win.
            verify = project_ca or first(env, settings.REQUESTS_CA_BUNDLE, settings.CURL_CA_BUNDLE) or True
        if verify is False:
            warnings.warn(
                "TLS certificate verification is off for this ModelArts session",
                stacklevel=2,
            )
        self.verify = verify
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(t("transport.bad_pool_size", value=repr(pool_size)))
        self.gate: InFlightGate | None = None  # set on a view made by scoped(in_flight=...)
        self._pool_lock = threading.Lock()
        self._http = new_http_session(pool_size=pool_size, verify=verify)
        self._timeout = timeout

        found = self._resolve(
            env,
            access_key=access_key,
            secret_key=secret_key,
            security_token=security_token,
            username=username,
            password=password,
            account=account,
        )
        self.auth_source: str = found.source
        self.credentials_kind: str = found.credentials.kind
        self.region_name = self.region_name or found.region
        if found.iam_endpoint and not self._iam_override:
            self._iam_override = found.iam_endpoint
        self._credentials: Credentials = found.credentials
        token_project = getattr(found.credentials, "project_id", None)
        self.project_id: str = (
            project_id or found.project_id or token_project or self._discover_project(found.credentials)
        )
        endpoint = given_endpoint
        if not endpoint:
            if not self.region_name:
                raise errors.AuthenticationError(t("credentials.endpoint_unknown"), errors.AUTH)
            endpoint = endpoints.modelarts_endpoint(self.region_name)
        self.endpoint: str = endpoint.rstrip("/")
        self._api = self._client(self.endpoint, self._credentials)
        log.info("ModelArts session: %r", self)

    @classmethod
    def set_endpoint(
        cls,
        iam_endpoint: str | None = None,
        obs_endpoint: str | None = None,
        modelarts_endpoint: str | None = None,
        region_name: str | None = None,
    ) -> None:
        """Point every later ``Session`` at other endpoints (private clouds); the official call."""
        del obs_endpoint  # accepted for compatibility; configs never touch OBS
        for key, value in (
            ("iam_endpoint", iam_endpoint),
            ("modelarts_endpoint", modelarts_endpoint),
            ("region_name", region_name),
        ):
            if value:
                cls._overrides[key] = value
            else:
                cls._overrides.pop(key, None)

    # -- credentials -------------------------------------------------------------------------

    def _client(self, base: str, credentials: Credentials | None) -> ApiClient:
        return ApiClient(
            base,
            credentials,
            http=self._http,
            timeout=self._timeout,
            retry=self._retry,
            # The default timeout fails fast on an endpoint never reached; an explicit one is kept.
            first_connect=FIRST_CONNECT_TIMEOUT if self._timeout == DEFAULT_TIMEOUT else None,
            proxies=self._proxies_for(base),
        )

    def _iam_client(self, credentials: Credentials | None) -> ApiClient:
        base = self._iam_override or endpoints.iam_endpoint(self.region_name)
        return self._client(base, credentials)

    def _password_login(
        self, source: str, account: str | None, username: str, password: str, project_id: str | None
    ) -> auth.Found:
        identity = auth.password_identity(account, username, password)
        iam = self._iam_client(None)

        def fetch() -> Any:
            return auth.fetch_token(iam, identity, project_id, self.region_name)

        return auth.Found(TokenCredentials(fetch), source, project_id=project_id)

    def _resolve(
        self,
        env: Mapping[str, str],
        *,
        access_key: str | None,
        secret_key: str | None,
        security_token: str | None,
        username: str | None,
        password: str | None,
        account: str | None,
    ) -> auth.Found:
        if access_key or secret_key:
            if not (access_key and secret_key):
                raise errors.AuthenticationError(t("credentials.both_keys"), errors.AUTH)
            return auth.Found(
                AccessKeyCredentials(access_key, secret_key, security_token), "arguments (AK/SK)"
            )
        if username or password:
            if not (username and password):
                raise errors.AuthenticationError(t("credentials.both_password"), errors.AUTH)
            project = first(env, settings.PROJECT_ID, settings.NOTEBOOK_PROJECT_ID)
            return self._password_login("arguments (password)", account, username, password, project)
        return self._auto(env)

    def _auto(self, env: Mapping[str, str]) -> auth.Found:
        def legacy(env: Mapping[str, str]) -> auth.Found:
            data = auth.read_legacy_config(env)
            self.region_name = self.region_name or data.get("region_name") or data.get("region")
            return self._password_login(
                f"legacy config {auth.legacy_config_path(env)}",
                data.get("account"),
                str(data["username"]),
                str(data["password"]),
                data.get("project_id") or first(env, settings.NOTEBOOK_PROJECT_ID),
            )

        chain: Iterable[tuple[str, Callable[[Mapping[str, str]], auth.Found]]] = (
            ("environment", auth.from_environment),
            ("profile", auth.from_profile),
            ("notebook", auth.from_notebook),
            ("metadata", auth.from_metadata),
            ("legacy", legacy),
        )
        tried: list[str] = []
        for name, source in chain:
            try:
                return source(env)
            except auth.NotApplicable as exc:
                source_name = t(f"credentials.source.{name}")
                tried.append(
                    t("credentials.tried", n=len(tried) + 1, source=source_name, reason=exc.error_msg)
                )
        raise errors.AuthenticationError(t("credentials.no_credentials", tried="\n".join(tried)), errors.AUTH)

    def _discover_project(self, credentials: Credentials) -> str:
        if not self.region_name:
            raise errors.AuthenticationError(t("credentials.project_unknown"), errors.AUTH)
        body = self._iam_client(credentials).call(
            "GET", "/v3/projects", query=[("name", self.region_name)], envelope=False
        )
        projects = body.get("projects") or []
        if len(projects) != 1:
            message = t("credentials.projects_ambiguous", count=len(projects), region=repr(self.region_name))
            raise errors.AuthenticationError(message, errors.AUTH)
        return str(projects[0]["id"])

    # -- calls ---------------------------------------------------------------------------------

    def _path(self, suffix: str) -> str:
        return f"/v1/{self.project_id}{suffix}"

    def call(
        self,
        method: str,
        suffix: str,
        *,
        query: Iterable[tuple[str, object]] = (),
        json_body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Call ``/v1/{project_id}{suffix}``; return the JSON body or raise ModelArtsError."""
        return self._api.call(method, self._path(suffix), query=query, json_body=json_body)

    def scoped(
        self,
        cancel: threading.Event,
        on_unreachable: OnUnreachable | None = None,
        *,
        in_flight: int | None = None,
    ) -> Session:
        """This session for one run: same credentials and connections, but ``cancel`` stops its calls.

        Once ``cancel`` is set, no call sends anything more and waits between attempts end at
        once (:class:`~.transport.Cancelled`, ``Client.Cancelled``); ``on_unreachable(reason)``
        is called when the endpoint cannot be reached at all. With ``in_flight``, the view's
        calls hold at most that many requests in flight (:attr:`gate`; a call waiting out a
        Retry-After frees its slot).
        """
        view = copy.copy(self)
        view._api = self._api.scoped(cancel, on_unreachable)
        view.gate = None
        if in_flight is not None:
            view.gate = InFlightGate(view._api.throttle, in_flight)
            view._api.throttle = view.gate
        return view

    @property
    def pool_size(self) -> int:
        """How many connections the session keeps to the endpoint (bounds useful concurrency)."""
        adapter = self._http.get_adapter(self.endpoint)
        return int(getattr(adapter, "_pool_maxsize", DEFAULT_POOL_SIZE))

    def ensure_pool_size(self, size: int) -> None:
        """Grow the connection pool to ``size`` connections per host (never shrinks it).

        Calls already running keep their connections; later ones use the larger pool.
        """
        with self._pool_lock:
            if size <= self.pool_size:
                return
            fresh = new_http_session(pool_size=size, verify=self.verify)
            adapter = fresh.get_adapter(self.endpoint)
            self._http.mount("https://", adapter)
            self._http.mount("http://", adapter)

    def __repr__(self) -> str:
        tls = "" if self.verify is not False else ", TLS verification OFF"
        if isinstance(self.verify, str):
            tls = f", CA bundle {self.verify!r}"
        return (
            f"Session(project_id={self.project_id!r}, region_name={self.region_name!r}, "
            f"endpoint={self.endpoint!r}, auth={self.credentials_kind!r} from {self.auth_source!r}{tls})"
        )
