"""The SDK core: the official ModelArts SDK's names for training-job configs, plus bulk operations.

``from modelarts_widgets.sdk import Session, Estimator`` runs the official SDK's examples as
they are written.
"""

from __future__ import annotations

from .bulk import BulkDelete, delete_job_configs, iter_config_pages, list_all_configs
from .errors import AuthenticationError, InvalidConfigNameError, ModelArtsError, TransportError
from .estimator import Estimator, JobConfig
from .names import check_config_name, is_valid_config_name
from .restore import BulkRestore
from .session import Session

__all__ = [
    "AuthenticationError",
    "BulkDelete",
    "BulkRestore",
    "Estimator",
    "InvalidConfigNameError",
    "JobConfig",
    "ModelArtsError",
    "Session",
    "TransportError",
    "check_config_name",
    "delete_job_configs",
    "is_valid_config_name",
    "iter_config_pages",
    "list_all_configs",
]
