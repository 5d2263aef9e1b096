"""`chaptan s3 ...`: check and repair the S3 mirror of the data dir from a shell.

`sync` uploads what the bucket lacks (it compares with the bucket's listing, so it also repairs a
bucket that lost objects) and the database; `status` checks the recorded state against the bucket's
listing and lists what is not mirrored: artifacts not uploaded yet, artifacts the bucket lost (the
running app uploads them again), and lost ones that neither the bucket nor this host has. When the
bucket cannot be listed it shows the recorded state and says that it could not check.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import ChaptanError

if TYPE_CHECKING:
    from ..storage.s3 import S3Mirror


def register(subparsers: argparse._SubParsersAction) -> None:
    s3 = subparsers.add_parser("s3", help="check and repair the S3 mirror (CHAPTAN_S3_BUCKET)",
                               description="The app mirrors the data dir to s3://CHAPTAN_S3_BUCKET/"
                                           "CHAPTAN_S3_PREFIX in the background; these commands check "
                                           "and complete that copy.")
    commands = s3.add_subparsers(dest="s3_command", required=True, metavar="COMMAND")
    commands.add_parser("sync", help="upload every artifact the bucket lacks, and the database"
                        ).set_defaults(func=_sync)
    commands.add_parser("status", help="list artifacts not mirrored yet").set_defaults(func=_status)


def _mirror() -> S3Mirror:
    from ..storage.s3 import build_mirror  # here, so other commands never pay for importing boto3
    from ..storage.store import DB_FILE, Store

    settings = Settings.from_env()
    mirror = build_mirror(settings, Store(settings.data_dir / DB_FILE))
    if mirror is None:
        raise ChaptanError("no bucket is configured: set CHAPTAN_S3_BUCKET (and the AWS_* variables)")
    return mirror


def _sync(args: argparse.Namespace) -> int:
    mirror = _mirror()
    report = mirror.sync()
    for key in report.uploaded:
        print(f"uploaded  {key}")
    for key, error in report.failed.items():
        print(f"FAILED    {key}: {error}")
    for key in report.lost:
        print(f"LOST      {key}: neither here nor in the bucket")
    print(f"{len(report.uploaded)} uploaded, {report.unchanged} already in "
          f"s3://{mirror.bucket}/{mirror.prefix}, {len(report.failed)} failed, {len(report.lost)} lost")
    return 1 if report.failed or report.lost else 0


def _status(args: argparse.Namespace) -> int:
    from ..storage.s3 import DB_KEY

    mirror = _mirror()
    where = f"s3://{mirror.bucket}/{mirror.prefix}"
    try:
        checked = mirror.verify()
    except ChaptanError as exc:
        checked = None
        print(f"could not check the bucket: {exc}")
    pending = mirror.pending()
    for key, state in pending:
        line = f"{state.get('state', 'unknown'):8}  {key}"
        if state.get("attempts"):
            line += f"  ({state['attempts']} failed attempt(s), last: {state.get('error', '')})"
        elif state.get("error"):
            line += f"  ({state['error']})"
        print(line)
    lost = mirror.lost()
    for key in lost:
        print(f"{'lost':8}  {key}  (neither here nor in the bucket)")
    if checked is not None and checked.snapshot_missing:
        print(f"{'missing':8}  {DB_KEY}  (the database snapshot; `s3 sync` uploads it)")
    if checked is None:
        print(f"{len(pending)} artifact(s) not mirrored yet, {len(lost)} lost, as last recorded; "
              f"{where} could not be checked")
        return 1
    if pending or lost or checked.snapshot_missing:
        print(f"{len(pending)} artifact(s) not mirrored yet, {len(lost)} lost (checked against {where})")
        return 1
    print(f"every artifact is mirrored (checked against {where})")
    return 0
