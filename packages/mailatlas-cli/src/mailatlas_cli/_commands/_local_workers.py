"""``mailatlas sync imap --all-accounts --workers N``: N local ``mailatlas worker``s.

The run queues a pass of the chosen accounts' folders in the store, starts N worker
processes (the same ``mailatlas worker`` any host can run) and waits for them; the
summary is the accounts summary of a sequential run, assembled from what the workers
report, plus one entry per worker. A worker killed midway loses nothing: its items are
resumed by the others once their lease expires.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from mailatlas_clean import ParserConfig
from mailatlas_core import StoreError, open_store
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
from .worker import GO_LINE, READY_LINE

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


def _finish(process: subprocess.Popen[str], errors: IO[str]) -> tuple[int, str, str]:
    try:
        out, _ = process.communicate()
    except KeyboardInterrupt:  # Ctrl-C reached the workers too: let them put items back
        out, _ = process.communicate()
    with errors:
        errors.seek(0)
        return process.returncode, out, errors.read()


Started = tuple[subprocess.Popen[str], IO[str]]  # a worker and the file of its stderr


def _start_workers(command: list[str], count: int) -> list[Started]:
    """Start ``count`` gated workers: each loads its drivers, opens the store and waits.

    stderr goes to a file, not a pipe: nothing reads it until the end, and a worker must
    never block on a full pipe while it is waited for."""
    started: list[Started] = []
    for _ in range(count):
        errors = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115 - _finish closes it
        process = subprocess.Popen(
            [*command, "--wait-for-start"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        started.append((process, errors))
    return started


def _release(started: list[Started], line: str) -> None:
    """Tell every waiting worker ``line`` (``go``, or nothing: stop) and close its stdin."""
    for process, _errors in started:
        assert process.stdin is not None
        with contextlib.suppress(OSError):  # it died already: its exit says why
            process.stdin.write(line)
        with contextlib.suppress(OSError):
            process.stdin.close()
        process.stdin = None  # communicate() must not flush it again


def _not_started(process: subprocess.Popen[str], errors: IO[str]) -> str | None:
    """Why this worker could not start (its last line), or ``None`` once it is ready."""
    assert process.stdout is not None
    if process.stdout.readline() == READY_LINE:
        return None
    code = process.wait()
    errors.seek(0)
    last = errors.read().strip().splitlines()[-1:] or [f"exit status {code}"]
    return last[0].removeprefix("Error: ")


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
    command = _worker_command(config.absolute(), accounts, paths, options)
    command += cleaning_args(parser_config)
    # The workers start first: each loads its drivers and opens the store (the slow
    # part of its start) while this process checks the store and queues the work.
    gated = _start_workers(command, count)
    go = ""
    try:
        gc.disable()  # opening imports the store's drivers: nothing to collect, much to walk
        try:
            # The workspace is the workers' to check: each opens the store in full.
            store = open_store(paths.db, paths.workspace, check_workspace=False)
            try:
                enqueue_accounts(store, accounts, folders)
            finally:
                store.close()
        finally:
            gc.enable()
        failed = next(filter(None, (_not_started(p, e) for p, e in gated)), None)
        if failed is not None:
            raise StoreError(f"a worker could not start: {failed}")
        go = GO_LINE
    finally:
        _release(gated, go)  # nothing said: the workers stop without claiming anything
        if not go:
            for process, errors in gated:
                _finish(process, errors)
    processes = [p for p, _ in gated]
    with ThreadPoolExecutor(max_workers=count) as pool:
        finished = list(pool.map(lambda worker: _finish(*worker), gated))
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
