"""``mailatlas sync imap --all-accounts --workers N``: N local ``mailatlas worker``s.

The run queues a pass of the chosen accounts' folders in the store, starts N worker
processes (the same ``mailatlas worker`` any host can run) and waits for them; the
summary is the accounts summary of a sequential run, assembled from what the workers
report, plus one entry per worker. A worker killed midway loses nothing: its items are
resumed by the others once their lease expires.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mailatlas_clean import ParserConfig
from mailatlas_imap import (
    Account,
    AccountResult,
    AccountsSyncResult,
    FolderResult,
    SyncResult,
    enqueue_accounts,
    unstarted,
)

from ._options import StorePaths, cleaning_args

__all__ = ["run_local_workers"]

# FolderResult fields that add up over the workers that took turns on one folder.
_SUMMED = ("retries",)


def _worker_command(
    config: Path, accounts: Sequence[Account], paths: StorePaths, options: dict[str, Any]
) -> list[str]:
    command = [sys.executable, "-m", "mailatlas_cli", "worker", "--config", str(config)]
    for account in accounts:
        command += ["--account", account.name]
    command += ["--db", str(paths.db), "--workspace", str(paths.workspace), "-q"]
    command += ["--retries", str(options["max_retries"])]
    if "timeout" in options:  # else each account's own, or the default
        command += ["--timeout", repr(options["timeout"])]
    return command


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate()
    except KeyboardInterrupt:  # Ctrl-C reached the workers too: let them put items back
        out, err = process.communicate()
    return process.returncode, out, err


def run_local_workers(
    paths: StorePaths,
    parser_config: ParserConfig,
    config: Path,
    accounts: Sequence[Account],
    count: int,
    options: dict[str, Any],
) -> tuple[AccountsSyncResult, list[dict[str, Any]]]:
    """Queue the accounts' folders, run ``count`` workers, and sum up what they did.

    ``options``: the overrides of a sequential run (``max_retries``, and ``timeout`` and
    ``folders`` when given)."""
    import time

    started = time.monotonic()
    folders = options.get("folders")
    gc.disable()  # opening imports the store's drivers: nothing to collect, much to walk
    try:
        with paths.atlas(parser_config) as atlas:
            enqueue_accounts(atlas.store(create=True), accounts, folders)
    finally:
        gc.enable()
    command = _worker_command(config.absolute(), accounts, paths, options)
    command += cleaning_args(parser_config)
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    with ThreadPoolExecutor(max_workers=count) as pool:
        finished = list(pool.map(_finish, processes))
    workers: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    interrupted = False
    for process, (code, out, err) in zip(processes, finished, strict=True):
        entry: dict[str, Any] = {"pid": process.pid, "exit_code": code}
        try:
            report = json.loads(out)
        except ValueError:  # killed, or stopped before it could report
            last = err.strip().splitlines()[-1:] or [f"exit status {code}"]
            entry.update(status="error", item_count=0, error=last[0])
        else:
            items += report["items"]
            interrupted |= report["status"] == "interrupted"
            entry.update(
                worker=report["worker"], status=report["status"], item_count=report["item_count"]
            )
        workers.append(entry)
    result = _summary(accounts, items, folders)
    result.interrupted = interrupted
    result.duration_s = time.monotonic() - started
    return result, workers


def _summary(
    accounts: Sequence[Account], items: list[dict[str, Any]], folders: tuple[str, ...] | None
) -> AccountsSyncResult:
    """One account entry per account, each folder merged over the workers that had it."""
    summary = AccountsSyncResult()
    for account in accounts:
        mine = [i for i in items if i["account"] == account.name]
        entries = [_folder(name, mine) for name in folders or account.folders]
        sync = SyncResult(host=account.host, port=account.port, auth=account.auth, folders=entries)
        errors = {i["error"] for i in mine if i["status"] == "failed"}
        all_failed = mine and all(i["status"] == "failed" for i in mine)
        error = errors.pop() if all_failed and len(errors) == 1 else None
        if error is not None and not any(i["folder_result"] for i in mine):
            sync = unstarted(account, error, folders)
        summary.accounts.append(AccountResult(account.name, sync, error))
    return summary


def _folder(name: str, items: list[dict[str, Any]]) -> FolderResult:
    """The folder's result: counts added over every worker's turn, the rest the last's."""
    turns = [i for i in items if i["folder"] == name]
    merged = FolderResult(name)
    for turn in turns:
        if turn["folder_result"] is None:
            if turn["status"] == "failed":  # lost or interrupted: another worker's turn next
                merged.fail(turn["error"] or "not synced")
            continue
        part = FolderResult.from_dict(turn["folder_result"])
        for f in dataclasses.fields(FolderResult):
            value = getattr(part, f.name)
            if f.name.endswith("_count") or f.name in _SUMMED:
                setattr(merged, f.name, getattr(merged, f.name) + value)
            elif f.name == "document_refs":
                merged.document_refs.extend(value)
            else:
                setattr(merged, f.name, value)
        if turn["status"] == "failed" and merged.error is None:
            merged.fail(turn["error"] or "failed")
    if not turns:
        merged.fail("not synced: no worker finished it (see `mailatlas worker`)")
    return merged
