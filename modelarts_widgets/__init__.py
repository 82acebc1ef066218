"""Find, select and safely delete ModelArts training-job configs from a notebook.

* :class:`JobConfigTable`: the widget (``JobConfigTable()`` uses ``Session()``'s automatic auth).
* ``%load_ext modelarts_widgets``: the ``%modelarts_delete`` magic.
* :mod:`modelarts_widgets.sdk`: ``Session``, ``Estimator`` and the bulk operations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sdk import Estimator, Session
    from .widget import JobConfigTable

__version__ = "0.1.0"
__all__ = ["Estimator", "JobConfigTable", "Session", "__version__", "load_ipython_extension"]


def __getattr__(name: str) -> Any:
    # The widget pulls in ipywidgets and anywidget; import it only when it is asked for. The SDK
    # is imported on first use too, so that the emulator subpackage can run without it.
    if name in ("Estimator", "Session"):
        from . import sdk

        return getattr(sdk, name)
    if name == "JobConfigTable":
        from .widget import JobConfigTable

        return JobConfigTable
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext modelarts_widgets``: register ``%modelarts_delete``."""
    from .magic import DeleteMagics, localize_help

    localize_help()  # %modelarts_delete? shows the help in the session's language
    ipython.register_magics(DeleteMagics)
