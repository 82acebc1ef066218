"""``python -m modelarts_widgets doctor [--check]``: see :mod:`modelarts_widgets.frontend`."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("doctor",):
        from .i18n import t

        print(t("doctor.usage"), file=sys.stderr)
        return 2
    from .frontend import main as doctor

    return doctor(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
