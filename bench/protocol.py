"""CPU per reply of the pool's wire protocol, the common case: many small messages.

    python bench/protocol.py                    # 2,000 generated messages, 15 rounds
    python bench/protocol.py --count 500 --rounds 9

The replies are real: each generated message (devkit.mailgen, as the ingest bench's
mbox) is parsed as a worker parses it (``parse_item``). Per reply, in the storing
process: decoding it from its frames (``Frames.feed``, fed in 64 KB reads as a pipe
delivers them) against the old protocol's decode (ac43d27: one length and one pickle,
the stream buffered, sliced and copied to ``bytes`` for ``pickle.loads``) and against
``pickle.loads`` alone (the floor of any); in the worker: encoding it (``dump``)
against ``pickle.dumps``.
The variants run in turn within each round, so they share the machine's load; CPU time
(``time.process_time``), medians and minima in microseconds per reply.
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections.abc import Callable

from _common import median, report
from mailatlas_clean import ParserConfig
from mailatlas_clean.pool._jobs import parse_item
from mailatlas_clean.pool._protocol import HEADER, Frames, Piece, dump

from devkit.mailgen import generate_messages

READ = 1 << 16  # what one os.read of a pipe typically brings


def _stream(objects: list[object]) -> list[bytes]:
    pieces: list[Piece] = []
    for obj in objects:
        dump(obj, pieces.append)
    whole = b"".join(bytes(p) for p in pieces)
    return [whole[i : i + READ] for i in range(0, len(whole), READ)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    config = ParserConfig()
    replies: list[object] = [
        parse_item((raw, None, None, {}), config, lambda _index: None)
        for raw in generate_messages(args.count, seed=1)
    ]
    reads = _stream(replies)
    pickles = [pickle.dumps(r, pickle.HIGHEST_PROTOCOL) for r in replies]
    one_frame = sum(len(p) <= (1 << 20) for p in pickles)

    def frames_feed() -> None:
        frames = Frames()
        for data in reads:
            frames.feed(data)

    old_reads = b"".join(len(p).to_bytes(HEADER, "little") + p for p in pickles)

    def old_decode() -> None:
        buf = bytearray()
        for start in range(0, len(old_reads), READ):
            buf += old_reads[start : start + READ]
            while len(buf) >= HEADER:
                size = int.from_bytes(buf[:HEADER], "little")
                if len(buf) < HEADER + size:
                    break
                pickle.loads(bytes(buf[HEADER : HEADER + size]))
                del buf[: HEADER + size]

    def pickle_loads() -> None:
        for data in pickles:
            pickle.loads(data)

    def frames_dump() -> None:
        for reply in replies:
            dump(reply, [].append)

    def pickle_dumps() -> None:
        for reply in replies:
            pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)

    variants: dict[str, Callable[[], None]] = {
        "decode_frames": frames_feed,
        "decode_old_protocol": old_decode,
        "decode_pickle_loads": pickle_loads,
        "encode_dump": frames_dump,
        "encode_pickle_dumps": pickle_dumps,
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _round in range(args.rounds):
        for name, run in variants.items():
            start = time.process_time()
            run()
            times[name].append((time.process_time() - start) * 1e6 / len(replies))
    report(
        "protocol-per-reply",
        replies=len(replies),
        single_frame=one_frame,
        median_pickle_bytes=sorted(map(len, pickles))[len(pickles) // 2] + HEADER,
        rounds=args.rounds,
        **{f"{name}_us": round(median(t), 1) for name, t in times.items()},
        **{f"{name}_min_us": round(min(t), 1) for name, t in times.items()},
    )


if __name__ == "__main__":
    main()
