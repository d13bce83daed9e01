"""What notebook 13's pool section relies on: chunks counted, shared memory read in place.

The notebook counts the messages of ``ProcessPoolExecutor.map`` from the recording (one
label per chunk a worker took) and sends a large argument by name through
``multiprocessing.shared_memory`` (nb13_tasks.checksum_shared). Here both under every
start method, and the block gone afterwards.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import zlib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory
from pathlib import Path

import pytest

import helpers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))
import nb13_tasks  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_leftovers")

START_METHODS = [m for m in ("fork", "spawn", "forkserver") if m in mp.get_all_start_methods()]


@pytest.mark.parametrize("method", START_METHODS)
def test_each_chunk_of_a_map_is_one_label_on_a_workers_lane(method):
    numbers = range(103)
    with helpers.recording() as rec:
        with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context(method)) as pool:
            for chunksize in (1, 25):
                squares = list(pool.map(nb13_tasks.square, numbers, chunksize=chunksize,
                                        timeout=60))  # fmt: skip
                assert squares == [x * x for x in numbers]
    messages = Counter(text for lane in rec.timeline.lanes for *_, text in lane.labels)
    # 103 in chunks of 25: four chunks of 25 and one of 3
    assert messages == {"square": 103, "square ×25": 4, "square ×3": 1}, messages
    assert not rec.timeline.notes, rec.timeline.notes


@pytest.mark.parametrize("method", START_METHODS)
def test_a_worker_reads_shared_memory_in_place_and_the_block_is_gone_after_unlink(method):
    data = bytes(range(256)) * 4_000  # 1 MB
    block = shared_memory.SharedMemory(create=True, size=len(data))
    try:
        block.buf[: len(data)] = data
        with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context(method)) as pool:
            shared = pool.submit(nb13_tasks.checksum_shared, block.name, len(data))
            sent = pool.submit(nb13_tasks.checksum, data)
            assert shared.result(timeout=60) == sent.result(timeout=60) == zlib.crc32(data)
    finally:
        block.close()
        block.unlink()
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name=block.name)
