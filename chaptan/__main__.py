"""`python -m chaptan COMMAND ...`: one argparse front-end over command modules.

Each module in COMMAND_MODULES has `register(subparsers)`, which adds its subcommands and sets
`func(args) -> int` on each. A user mistake raises ChaptanError and becomes one line on stderr
with exit status 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import __version__
from .errors import ChaptanError

# Modules are imported only here, so library code never pays for argparse or for other commands.
COMMAND_MODULES = ("chaptan.cli.pipeline", "chaptan.cli.users", "chaptan.cli.s3", "chaptan.cli.models",
                   "chaptan.cli.worker")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chaptan", description="Video -> transcript -> YouTube chapters.")
    parser.add_argument("--version", action="version", version=f"chaptan {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log what happens (device, model, stages)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="chaptan: %(message)s", stream=sys.stderr)
    if not args.verbose:
        # faster-whisper logs every file's duration and VAD result at INFO.
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    try:
        return args.func(args)
    except ChaptanError as exc:
        print(f"chaptan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("chaptan: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
