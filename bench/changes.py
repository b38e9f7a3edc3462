"""Benchmark: a rerun that applies changes to stored mail, against a private Dovecot.

Per mode (QRESYNC: Dovecot as shipped; CONDSTORE only; neither: the full comparison),
for each of ``--runs`` runs: a fresh user's INBOX gets ``--count`` generated messages
(devkit.mailgen), a first sync stores them (not timed), then a second IMAP client sets
``\\Flagged`` on ``--flags`` messages and expunges ``--expunges`` others, and the rerun
that applies those changes is timed. It must report exactly those changes and download
no body. A rerun with nothing changed is timed just before, as a yardstick of how loaded
the machine is (on an idle one it takes about 0.02 s). Prints the medians per mode.

    python bench/changes.py                     # 10,000 messages, 1,000 + 1,000, 3 runs
    python bench/changes.py --count 2000 --runs 1
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imapclient import IMAPClient
from mailatlas_core import open_store
from mailatlas_imap import ImapSyncConfig, sync_imap

from devkit.dovecot import CAPABILITY_CONDSTORE_ONLY, CAPABILITY_NO_CONDSTORE, DovecotServer
from devkit.mailgen import generate_messages

MODES = {
    "qresync": "+CONDSTORE",
    "condstore": CAPABILITY_CONDSTORE_ONLY,
    "neither": CAPABILITY_NO_CONDSTORE,
}
STORE_ROOT = Path(__file__).resolve().parent / "out"  # a user's disk, not /tmp (see sync.py)


def change(server: DovecotServer, user: str, flags: int, expunges: int) -> None:
    """``\\Flagged`` on UIDs 1..flags; UIDs after them expunged."""
    client = IMAPClient(server.host, port=server.imap_port, ssl=False)
    client.login(user, server.users[user])
    client.select_folder("INBOX")
    gone = list(range(flags + 1, flags + expunges + 1))
    for start in range(0, flags, 500):  # short command lines
        client.add_flags(list(range(start + 1, min(start + 500, flags) + 1)), [b"\\Flagged"])
    for start in range(0, len(gone), 500):
        client.add_flags(gone[start : start + 500], [b"\\Deleted"])
    client.uid_expunge(gone)
    client.logout()


def one_run(
    server: DovecotServer, user: str, raws: list[bytes], args: argparse.Namespace
) -> tuple[float, float]:
    server.fill_maildir(user, "INBOX", raws)
    config = ImapSyncConfig(
        host=server.host,
        port=server.imaps_port,
        username=user,
        password=server.users[user],
        ca_file=str(server.cert_path),
    )
    work = Path(tempfile.mkdtemp(prefix="changes-", dir=STORE_ROOT))
    try:
        with open_store(work / "store.db", work / "ws") as store:
            assert sync_imap(store, config).ingested_count == len(raws)
            t0 = time.perf_counter()
            sync_imap(store, config)  # nothing changed: the yardstick
            idle = time.perf_counter() - t0
            change(server, user, args.flags, args.expunges)
            t0 = time.perf_counter()
            rerun = sync_imap(store, config)
            took = time.perf_counter() - t0
            (folder,) = rerun.folders
            seen = (folder.flag_change_count, folder.removed_count, folder.downloaded_count)
            assert seen == (args.flags, args.expunges, 0), rerun.to_dict()
            assert rerun.fetched_count == 0
            return took, idle
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--flags", type=int, default=1_000)
    parser.add_argument("--expunges", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=list(MODES), action="append")
    args = parser.parse_args(argv)
    STORE_ROOT.mkdir(parents=True, exist_ok=True)
    raws = list(generate_messages(args.count, seed=3))
    print(f"{args.count:,} messages, {args.flags:,} flag changes + {args.expunges:,} expunges")
    for mode in args.mode or list(MODES):
        users = {f"bench{i}": f"pw-{i}" for i in range(args.runs)}
        with DovecotServer(users=users, capability=MODES[mode]) as server:
            runs = [one_run(server, user, raws, args) for user in users]
        times = [t for t, _ in runs]
        print(
            f"{mode:>9}: rerun median {statistics.median(times):.3f} s"
            f" (runs: {', '.join(f'{t:.3f}' for t in times)}), 0 bodies downloaded;"
            f" unchanged rerun {statistics.median(i for _, i in runs):.3f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
