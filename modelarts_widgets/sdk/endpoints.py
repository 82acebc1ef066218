"""Where ModelArts and IAM live for a region, and the environment variables that override it."""

from __future__ import annotations

from collections.abc import Mapping

# Every region of the official table uses .myhuaweicloud.com, except this one.
_DOMAIN_EXCEPTIONS = {"ap-southeast-1": "myhuaweicloud.cn"}
DEFAULT_DOMAIN = "myhuaweicloud.com"


def modelarts_endpoint(region: str) -> str:
    return f"https://modelarts.{region}.{_DOMAIN_EXCEPTIONS.get(region, DEFAULT_DOMAIN)}"


def iam_endpoint(region: str | None) -> str:
    if not region:
        return "https://iam.myhuaweicloud.com"
    return f"https://iam.{region}.{_DOMAIN_EXCEPTIONS.get(region, DEFAULT_DOMAIN)}"


def first(env: Mapping[str, str], *names: str) -> str | None:
    """The first of ``names`` that is set to a non-blank value."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None
