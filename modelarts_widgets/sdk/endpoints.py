"""Where ModelArts and IAM live for a region, and the environment variables that override it."""

from __future__ import annotations

import re
from collections.abc import Mapping

from modelarts_widgets.i18n import t

# Every region of the official table uses .myhuaweicloud.com, except this one.
_DOMAIN_EXCEPTIONS = {"ap-southeast-1": "myhuaweicloud.cn"}
DEFAULT_DOMAIN = "myhuaweicloud.com"


# A region is a host-name label such as cn-north-4: nothing that could move the host elsewhere.
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _host_for(service: str, region: str) -> str:
    if not _REGION.fullmatch(region):
        raise ValueError(t("transport.bad_region", region=repr(region)))
    return f"https://{service}.{region}.{_DOMAIN_EXCEPTIONS.get(region, DEFAULT_DOMAIN)}"


def modelarts_endpoint(region: str) -> str:
    """``https://modelarts.{region}.{domain}``; ``ValueError`` for a region that is no region name."""
    return _host_for("modelarts", region)


def iam_endpoint(region: str | None) -> str:
    """The IAM endpoint of ``region`` (the global one without a region); ``ValueError`` as above."""
    if not region:
        return "https://iam.myhuaweicloud.com"
    return _host_for("iam", region)


def first(env: Mapping[str, str], *names: str) -> str | None:
    """The first of ``names`` that is set to a non-blank value."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None
