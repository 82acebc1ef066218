"""Plain values shared by the trash test files."""

from __future__ import annotations

# What a details read returns holds the create call's mandatory fields.
_REQUIRED = {"worker_server_num": 1, "spec_id": 1, "engine_id": 1}
