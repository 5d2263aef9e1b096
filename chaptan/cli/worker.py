"""`python -m chaptan worker`: run jobs handed out by the app through CHAPTAN_BROKER_URL."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    worker = subparsers.add_parser(
        "worker", help="run transcription jobs for the app (Celery)",
        description="Take jobs from CHAPTAN_BROKER_URL and transcribe and chapter them. Uses the same "
                    "settings as the app; the data folder (CHAPTAN_DATA_DIR) or bucket "
                    "(CHAPTAN_S3_BUCKET) must be the app's. Each process loads the model once.")
    worker.add_argument("--concurrency", type=int, default=1, metavar="N",
                        help="jobs at once on this machine (default 1: one GPU or CPU runs one video)")
    worker.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.remote import run_worker  # celery and faster-whisper load only for this command

    return run_worker(args.concurrency, "INFO" if args.verbose else "WARNING")
