"""Benchmark: peak memory of ingesting one message, against its size, per content type.

    python bench/memory.py                      # 8 and 32 MB, every shape
    python bench/memory.py --sizes 4,8,16,32 --shape "plain text"
    python bench/memory.py --against main       # also main's code, interleaved per message
    python bench/memory.py --sync               # also an IMAP sync of one message (Dovecot)
    python bench/memory.py --workers            # also a long run: parsed in a worker process
    python bench/memory.py --sync --workers     # and a sync of a folder of 1,100 (workers)

Each message is ingested (``MailAtlas.ingest_eml``, one message, parsed in-process as a
one-message run is) in a fresh interpreter started from a small one; the figure is that
interpreter's VmHWM after the ingest minus its VmHWM before it (after a warm-up
message: the store created, the parser imported), divided by the message size. The
shapes are in ``devkit/memshapes.py``. Issue 11 asks for at most 4x for every type;
docs/reliability.md has the figures and what each costs. ``--against REF`` measures git
REF's packages (bench/ingest.py's ``against``) right after this tree's, message by message,
so both see the same load. ``--sync`` also measures an IMAP sync of the one message from a
private Dovecot (``devkit.dovecot``): the syncing interpreter's VmHWM, as for an ingest.
``--workers`` also ingests it in a run long enough for parse workers (``measure_workers``):
two rows, the storing process and the worker that parsed it (its VmHWM above the
largest of the warm-up run's workers). With both, also a sync of a folder holding the
message and 1,100 small ones, with the parse workers a sync of that size starts, after
a warm-up sync of as many others: the syncing process's VmHWM above its figure then.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ingest import against  # noqa: E402

from devkit.memshapes import (  # noqa: E402
    SHAPES,
    measure,
    measure_sync,
    measure_workers,
    write_shape,
)

MB = 1024 * 1024
SYNC_FILLER = 1100  # a sync starts parse workers from 1,000 messages a folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="8,32", help="message sizes in MB, comma-separated")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="repeatable")
    parser.add_argument("--against", metavar="REF", help="also git REF's code, interleaved")
    parser.add_argument("--sync", action="store_true", help="also sync it over IMAP (Dovecot)")
    parser.add_argument("--workers", action="store_true", help="also parse it in a worker")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    variants = against(args.against) if args.against else {"": None}
    print(f"{'shape':<44}" + "".join(f"{s:>10} MB" for s in sizes) + "   (peak / size)")
    for shape in args.shape or list(SHAPES):
        cells: dict[str, list[str]] = {label: [] for label in variants}
        for mb in sizes:
            for label, env in variants.items():
                cells[label].append(_cell(shape, mb, env))
                if args.sync:
                    cells.setdefault(f"{label} sync".strip(), []).append(
                        _cell(shape, mb, env, sync=True)
                    )
                if args.sync and args.workers:
                    cells.setdefault(f"{label} sync, workers".strip(), []).append(
                        _cell(shape, mb, env, sync=True, filler=SYNC_FILLER)
                    )
                if args.workers:
                    stored, worker = _worker_cells(shape, mb, env)
                    cells.setdefault(f"{label} storing".strip(), []).append(stored)
                    cells.setdefault(f"{label} worker".strip(), []).append(worker)
        for label, row in cells.items():
            name = f"{shape} [{label}]" if label else shape
            print(f"{name:<44}" + "".join(row), flush=True)


def _cell(
    shape: str, mb: int, env: dict[str, str] | None, *, sync: bool = False, filler: int = 0
) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.eml"
        size = write_shape(shape, mb * MB, path)
        if sync:
            figures = measure_sync(path, Path(tmp) / "home", env, filler=filler)
        else:
            figures = measure(path, Path(tmp) / "home", env)
    if figures["ingested"] != 1:
        return f"{'failed':>13}"
    return f"{(figures['peak'] - figures['base']) / size:>12.2f}x"


def _worker_cells(shape: str, mb: int, env: dict[str, str] | None) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.eml"
        size = write_shape(shape, mb * MB, path)
        figures = measure_workers(path, Path(tmp) / "home", env)
    if figures["ingested"] != 1:
        return f"{'failed':>13}", f"{'failed':>13}"
    stored = (figures["peak"] - figures["base"]) / size
    worker = (figures["workers_peak"] - figures["workers_base"]) / size
    return f"{stored:>12.2f}x", f"{worker:>12.2f}x"


if __name__ == "__main__":
    main()
