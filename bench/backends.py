"""Benchmark: IMAP sync into SQLite + files and into PostgreSQL + S3, 1, 2 and 4 workers.

Starts its own Dovecot (devkit.dovecot), a private PostgreSQL (devkit.postgres; durable,
fsync on, unless ``--fast-pg``) and a private SeaweedFS S3 gateway (devkit.seaweedfs),
all on this machine. Fills ``--accounts`` mailboxes with two folders each
(``--count`` generated messages in all, devkit.mailgen), writes an accounts file, then
runs, ``--runs`` times and in turn, the real command into a fresh store each time::

    mailatlas sync imap --config accounts.toml --all-accounts --workers N \\
        --db DB --workspace WS

for SQLite + files with 1 worker and for PostgreSQL + S3 with 1, 2 and 4 workers
(``--workers`` to change). Prints the median msg/s of each and its ratio to SQLite:

    python bench/backends.py                       # 4,000 messages, 8 accounts, 3 runs
    python bench/backends.py --count 1000 --runs 1
    python bench/backends.py --against main        # also REF's code, interleaved

Each line also gives MailAtlas's CPU time per message (user + system of the sync command
and every process it waited for: workers, parse pool), which a loaded machine blurs far
less than wall time, and each server's CPU per message (PostgreSQL, weed and Dovecot,
each process tree read from /proc: they run on the same cores). A last line gives the
ceiling those figures put on PostgreSQL + S3 here: the rate if MailAtlas spent no more
CPU a message on it than on SQLite and every core were busy. ``--against REF`` runs git
REF's packages (bench/ingest.py's ``against``) in turn with this tree's, run by run, and
prints both.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO
from ingest import against

from devkit.dovecot import DovecotServer
from devkit.mailgen import generate_messages
from devkit.postgres import PostgresServer
from devkit.seaweedfs import SeaweedServer, make_bucket

FOLDERS = ("INBOX", "Archive")
BUCKET = "mailatlas-bench"
STORE_ROOT = Path(__file__).resolve().parent / "out"
# The last store of each kind: (database bytes, workspace bytes), from `mailatlas stats`.
SIZES: dict[str, tuple[int, int]] = {}
# The servers' processes (PostgreSQL's postmaster, weed, Dovecot's master): their CPU is on
# these cores too.
SERVERS: dict[str, int] = {}


def _tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and every live process under it, each with its reaped
    children (a postmaster's count includes its exited backends, Dovecot's master its
    exited imap processes): each exited process is counted once, by its parent."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # it ended meanwhile
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += sum(int(x) for x in stats[current][11:15]) / os.sysconf("SC_CLK_TCK")
        todo += children.get(current, [])
    return total


def server_cpu() -> dict[str, float]:
    """CPU seconds used so far by each server (PostgreSQL, weed, Dovecot)."""
    return {name: _tree_cpu(pid) for name, pid in SERVERS.items()}


def accounts_file(path: Path, server: DovecotServer, users: list[str]) -> dict[str, str]:
    """Write the accounts file; returns the environment holding the passwords."""
    lines = [
        "[defaults]",
        'host = "127.0.0.1"',
        f"port = {server.imaps_port}",
        f'ca_file = "{server.cert_path}"',
        f"folders = {json.dumps(list(FOLDERS))}",
        "max_connections = 2",
        "",
    ]
    env = {}
    for user in users:
        var = f"BENCH_PW_{user.upper()}"
        lines += [f"[accounts.{user}]", f'username = "{user}"', f'password_env = "{var}"', ""]
        env[var] = server.users[user]
    path.write_text("\n".join(lines))
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


Run = tuple[float, float, dict[str, float]]


def timed_sync(
    config: Path, workers: int, db: str, workspace: str, env: dict[str, str], count: int
) -> Run:
    """(messages per second, CPU seconds per message, each server's CPU seconds per
    message) of one sync into a fresh store."""
    args = [sys.executable, "-m", "mailatlas_cli", "sync", "imap", "--config", str(config),
            "--all-accounts", "--workers", str(workers), "--db", db, "--workspace", workspace,
            "--quiet"]  # fmt: skip
    cpu0, servers0, t0 = children_cpu(), server_cpu(), time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    elapsed, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    servers = {name: spent - servers0[name] for name, spent in server_cpu().items()}
    if done.returncode != 0:
        raise SystemExit(f"sync failed ({done.returncode}): {done.stderr[-2000:]}")
    listed = subprocess.run(
        [sys.executable, "-m", "mailatlas_cli", "stats", "--db", db, "--workspace", workspace],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    stats = json.loads(listed.stdout)
    if stats["documents"] != count:
        raise SystemExit(f"expected {count} documents, the store has {stats['documents']}")
    kind = "postgresql" if db.startswith(("postgresql:", "postgres:")) else "sqlite"
    SIZES[kind] = (stats["database_bytes"], stats["workspace_bytes"])
    return count / elapsed, cpu / count, {name: spent / count for name, spent in servers.items()}


def _ms(servers: dict[str, float]) -> str:
    return ", ".join(f"{name} {spent * 1000:.2f}" for name, spent in servers.items()) + " ms/msg"


def ceiling(variant: str, rates: dict[tuple[str, str, int], list[Run]]) -> str:
    """The most PostgreSQL + S3 could do on this machine's cores if MailAtlas spent no
    more CPU a message on it than on SQLite: every core busy with SQLite's MailAtlas CPU,
    Dovecot's, PostgreSQL's and weed's, as measured in this run (medians)."""
    sqlite = rates[(variant, "sqlite", 1)]
    postgres = [run for (v, b, _), runs in rates.items() if v == variant and b == "postgres"
                for run in runs]  # fmt: skip
    own = statistics.median(c for _, c, _ in sqlite)
    serve = sum(statistics.median(s[n] for _, _, s in postgres) for n in ("postgres", "weed"))
    imap = statistics.median(s["dovecot"] for _, _, s in sqlite)
    cores = os.cpu_count() or 1
    best = cores / (own + imap + serve)
    base = statistics.median(r for r, _, _ in sqlite)
    return (
        f"  {variant}: ceiling for PostgreSQL + S3 on {cores} cores with SQLite's MailAtlas CPU"
        f" ({own * 1000:.2f} + Dovecot {imap * 1000:.2f} + PostgreSQL and weed"
        f" {serve * 1000:.2f} ms/msg): {best:,.0f} msg/s = {best / base:.0%} of SQLite"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=4000, help="messages in total")
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--fast-pg", action="store_true", help="PostgreSQL with fsync off")
    parser.add_argument(
        "--against", metavar="REF", help="also run git REF's code, interleaved run by run"
    )
    args = parser.parse_args(argv)

    STORE_ROOT.mkdir(parents=True, exist_ok=True)
    # Other processes share the machine: the load average says how much the figures mean.
    load_start = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="backends-", dir=STORE_ROOT))
    users = [f"acct{i:02d}" for i in range(args.accounts)]
    try:
        with (
            DovecotServer(users={u: "pw-" + secrets.token_hex(8) for u in users}) as dovecot,
            PostgresServer(durable=not args.fast_pg) as pg,
            SeaweedServer() as s3,
        ):
            make_bucket(s3, BUCKET)
            SERVERS.update(postgres=pg.pid() or 0, weed=s3.pid() or 0)
            SERVERS["dovecot"] = dovecot.master_pid() or 0
            raws = list(generate_messages(args.count, seed=1))
            size_mb = sum(map(len, raws)) / 1e6
            share = len(raws) // (len(users) * len(FOLDERS))
            for i, user in enumerate(users):
                for j, folder in enumerate(FOLDERS):
                    start = (i * len(FOLDERS) + j) * share
                    dovecot.fill_maildir(user, folder, raws[start : start + share])
            count = share * len(users) * len(FOLDERS)
            del raws
            config = work / "accounts.toml"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILATLAS_", "PG"))}
            env.update(accounts_file(config, dovecot, users), **s3.env())
            env["PYTHONPATH"] = str(REPO)
            variants = {"this": env}
            for label, ref_env in (against(args.against) if args.against else {}).items():
                if ref_env is not None:
                    paths = [ref_env["PYTHONPATH"], str(REPO)]
                    variants[label] = dict(env, PYTHONPATH=os.pathsep.join(paths))

            shapes = [("sqlite", 1)] + [("postgres", n) for n in args.workers]
            rates: dict[tuple[str, str, int], list[Run]] = {
                (v, *shape): [] for v in variants for shape in shapes
            }
            for run in range(args.runs):
                for backend, workers in shapes:
                    for variant, variant_env in variants.items():
                        name = f"b{run}_{backend}_{workers}_{secrets.token_hex(3)}"
                        if backend == "sqlite":
                            db, ws = str(work / name / "store.db"), str(work / name / "ws")
                        else:
                            db, ws = pg.create_database(name), f"s3://{BUCKET}/{name}"
                        rate, cpu, servers = timed_sync(config, workers, db, ws, variant_env, count)
                        rates[(variant, backend, workers)].append((rate, cpu, servers))
                        print(
                            f"run {run + 1}: {variant} {backend} x{workers}: {rate:,.0f} msg/s,"
                            f" {cpu * 1000:.1f} ms CPU/msg ({_ms(servers)}),"
                            f" load {os.getloadavg()[0]:.1f}",
                            file=sys.stderr,
                        )
            load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
            print(
                f"mailatlas sync imap --all-accounts over TLS: {count} messages ({size_mb:.0f} MB),"
                f" {len(users)} accounts x 2 folders, median of {args.runs}"
                f" (PostgreSQL {'fsync off' if args.fast_pg else 'durable'};"
                f" load average at start {load_start}, at end {load}):"
            )
            for (variant, backend, workers), values in rates.items():
                label = "SQLite + files" if backend == "sqlite" else "PostgreSQL + S3"
                base = statistics.median(r for r, _, _ in rates[(variant, "sqlite", 1)])
                med = statistics.median(r for r, _, _ in values)
                cpu = statistics.median(c for _, c, _ in values)
                servers = {n: statistics.median(s[n] for _, _, s in values) for n in SERVERS}
                singles = ", ".join(f"{r:,.0f}" for r, _, _ in values)
                tag = f"{variant:8} " if len(variants) > 1 else ""
                print(
                    f"  {tag}{label:16} {workers} worker(s)  {med:7,.0f} msg/s  {med / base:5.0%}"
                    f"  {cpu * 1000:5.1f} ms CPU/msg  {_ms(servers)}   (runs: {singles})"
                )
            for variant in variants:
                print(ceiling(variant, rates))
            for kind, (db_bytes, ws_bytes) in SIZES.items():
                print(
                    f"  per document ({kind}):"
                    f" database {db_bytes / count:,.0f} B, blobs {ws_bytes / count:,.0f} B"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
