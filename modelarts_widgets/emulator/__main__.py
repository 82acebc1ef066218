"""``python -m modelarts_widgets.emulator``: run the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import threading

from .faults import FAULT_KINDS, Faults
from .server import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelarts_widgets.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--configs", type=int, default=40, help="number of seeded configs (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the seeded configs")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each API request")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of requests that fail (0-1)")
    parser.add_argument(
        "--fault-kinds",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated kinds of random faults (default {','.join(FAULT_KINDS)})",
    )
    parser.add_argument("--rate-limit", type=float, default=0.0, help="requests per second (0: no limit)")
    parser.add_argument(
        "--iam-user",
        action="append",
        default=[],
        metavar="[DOMAIN/]NAME:PASSWORD",
        help="an IAM user that may get tokens by password (repeatable); the domain defaults to NAME",
    )
    parser.add_argument("--env-file", help="also write the export lines to this file")
    args = parser.parse_args(argv)

    faults = Faults(
        latency=args.latency,
        error_rate=args.error_rate,
        kinds=[k for k in args.fault_kinds.split(",") if k],
        rate_limit=args.rate_limit,
    )
    try:
        if args.configs < 0:
            raise ValueError(f"--configs takes a number of configs >= 0, not {args.configs}")
        faults.check()
        users = dict(_iam_user(spec) for spec in args.iam_user)
    except ValueError as exc:
        parser.error(str(exc))
    emulator = Emulator(host=args.host, port=args.port, configs=args.configs, seed=args.seed, faults=faults)
    emulator.identities.users.update(users)
    emulator.start()
    exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in emulator.env().items())
    if args.env_file:
        with open(args.env_file, "w", encoding="utf-8") as handle:
            handle.write(exports + "\n")
    print(f"ModelArts emulator on {emulator.endpoint} with {args.configs} configs", flush=True)
    for domain, name in users:
        print(f"IAM user {name} (domain {domain}) may log in with its password", flush=True)
    print(exports, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()
    return 0


def _iam_user(spec: str) -> tuple[tuple[str, str], str]:
    user, sep, password = spec.partition(":")
    domain, _, name = user.rpartition("/")
    if not sep or not name or not password:
        raise ValueError(f"--iam-user takes [DOMAIN/]NAME:PASSWORD, not {spec.split(':', maxsplit=1)[0]}:...")
    return (domain or name, name), password


if __name__ == "__main__":
    sys.exit(main())
