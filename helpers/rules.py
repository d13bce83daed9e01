"""The rules that turn heartbeats into states, in plain Python: the reference, read this one.

The evidence (helpers.recorder): each thread's heartbeats, timestamps it took while
running Python, and its marked regions (a sleep, a lock, a long C call). Under the GIL
only one thread of a process runs Python at a time, so a heartbeat proves its thread
held the GIL at that instant. ``build_timeline`` says the rules, one by one, and applies
them slowly; helpers.rules_fast applies the same rules with numpy, written again on
purpose (sharing only the data types), and tests/test_inference.py checks on random
records that the two always agree.

    >>> tl = build_timeline(records, info)        # doctest: +SKIP
"""

from __future__ import annotations

import bisect

from .recorder import (
    C_CALL_AUTO,
    COMPUTED_SHARE,
    MERGE_GAP_NS,
    WAITS,
    LaneRecord,
    Mark,
    cut_short_note,
)
from .states import (
    AWAITING,
    BLOCKED,
    C_CALL,
    C_CALL_NO_GIL,
    FINISHED,
    RUNNING,
    STARTING,
    WAITING_CPU,
    WAITING_GIL,
)
from .timeline import Lane, RunInfo, Span, Timeline

__all__ = ["build_timeline"]

RELEASES_GIL = (BLOCKED, C_CALL_NO_GIL)  # regions whose first heartbeat ends a slice


def split_at_callbacks(record: LaneRecord) -> list[Mark]:
    """Rule 6's last part: an automatic C call with the thread's own heartbeats inside it
    keeps only the stretches before the first and after the last of them; one inside a
    region that says what it is is left out, and so is a stretch after the last
    heartbeat that lies in such a region (``with lane.region(...)`` opens its region
    inside the C call ``next``, which goes on for a moment after it)."""
    beats = record.beats
    known = sorted(m for m in record.marks if m.kind != C_CALL_AUTO)

    def in_known(t: int) -> bool:  # inside a region that says what it is (end maybe clamped)
        return any(k.start <= t < k.end for k in known)

    out = []
    for m in record.marks:
        start, end, kind, label, cpu = m
        if kind != C_CALL_AUTO:
            out.append(m)
            continue
        if in_known(start):
            continue
        lo, hi = bisect.bisect_right(beats, start), bisect.bisect_left(beats, end)
        if lo >= hi:  # no heartbeat strictly inside: C code all along
            out.append(m)
            continue
        out.append(Mark(start, beats[lo], kind, label, cpu))
        if beats[hi - 1] < end and not in_known(beats[hi - 1]):
            out.append(Mark(beats[hi - 1], end, kind, label, cpu))
    return out


def task_lane(r: LaneRecord, run_end: int) -> Lane:
    """Rule 9: a task's lane, from its steps (start, end, start, end, ...)."""
    spans, cursor = [], lane_start(r)
    for start, end in zip(r.beats[0::2], r.beats[1::2]):
        spans += [Span(cursor, start, AWAITING), Span(start, end, RUNNING)]
        cursor = end
    spans.append(Span(cursor, r.open_until, AWAITING) if r.open_until
                 else Span(cursor, run_end, FINISHED))  # fmt: skip
    return Lane(name=r.name, pid=r.pid, native_id=r.native_id, process_name=r.process_name,
                spans=tuple(clip(merge_adjacent(spans), run_end)), slices=(), cpu_ns=r.cpu_ns,
                auto=r.auto, kind="task")  # fmt: skip


def lane_start(record: LaneRecord) -> int:
    """Rule 8: where a lane begins."""
    return min([record.beats[0]] + [x for x in (record.requested_ns, record.ready_ns) if x > 0])


def run_bounds(records: list[LaneRecord]) -> tuple[int, int, list[str]]:
    """Start and end of the run, and notes (a recording cut short at its memory cap)."""
    if not records or any(len(r.beats) == 0 for r in records):
        raise ValueError("every lane needs at least one heartbeat (did the task run?)")
    start = min(lane_start(r) for r in records)
    end = max(max(r.beats[-1], r.open_until) for r in records)
    notes = []
    cut = [r for r in records if r.truncated_at]
    if cut:
        end = min(end, min(r.truncated_at for r in cut))
        notes.append(cut_short_note((end - start) / 1e6, [r.name for r in cut]))
    return start, end, notes


def build_timeline(records: list[LaneRecord], info: RunInfo,
                   merge_gap_ns: int = MERGE_GAP_NS) -> Timeline:  # fmt: skip
    """The Timeline of a run, rule by rule (slow: for reading and for tests).

    The rules, for the threads of one process:

    1.  Put every heartbeat of the process in one list, in time order.
    2.  A *running* span: consecutive heartbeats of one thread in that list, each
        within MERGE_GAP_NS of the next, not across a heartbeat that opens a
        region. (Without the GIL each thread is read on its own list.)
    3.  A *slice* (a time the thread held the GIL): consecutive heartbeats of one
        thread in that list, not across one that gives the GIL away (opens a
        blocked region or a C call that released the GIL, as rule 6 decides).
    4.  A workload's C call that keeps the GIL ends no later than the first
        heartbeat another thread took after it began: under the GIL nobody else
        can run during it. (Its end is stamped by Python code that runs after it
        returns, and that code may first hand the GIL to a waiting thread.)
        The same holds for an automatically recorded C call that another thread,
        ready before it began, waited through: if that thread's first heartbeat
        inside the call came more than a switch interval after its start (a
        thread that asks for the GIL gets it within one, unless C code keeps it),
        and the call's CPU time does not say it waited, the call kept the GIL
        until then; it is a C call that keeps the GIL.
    5.  Between its running spans, a thread is what its innermost region says:
        blocked, a C call (holding the GIL), a C call with the GIL released.
        But a region that gave the GIL away ends when its thread has the GIL
        back, and a thread that woke up while another held it waits a switch
        interval before it asks for it. So where the last heartbeat in the
        process before the region's end (a heartbeat of its thread) is another
        thread's, one that kept the GIL and was not its last, the GIL was taken
        from that thread for this one: the region's last switch interval, not
        before that thread's slice began, was *waiting for the GIL*.
    6.  An automatically recorded long C call is decided from evidence, as a
        whole (a C function releases the GIL for all of its work, or not at all):
        - a call that lets the GIL go whenever it waits (recorder.WAITS: a sleep,
          a lock, a join, a poll) and did not compute waited: "blocked", known;
        - it computed (its CPU time is at least COMPUTED_SHARE of its length,
          not counting time it spent waiting for a core, where the OS says) or
          it waited (blocked); where its CPU time was not measured, a call that released
          the GIL is read as a wait (the common case: sleep, I/O, a lock), one
          that nobody can tell about as a computation;
        - if another thread of the process took a heartbeat during it, it
          released the GIL: "C call, GIL released" or "blocked" (proven);
        - if another thread was ready to run for most of it and did not, it held
          the GIL: "C call" (proven);
        - if no other thread wanted the GIL, nobody can tell: "C call" or
          "blocked", hatched (inferred). Unmeasured CPU time is inferred too.
        A C call that calls back into Python (``sum(x*x for x in ...)``, ``sorted(key=...)``)
        has heartbeats of its own inside it: between its first and last one the
        thread ran Python, so only the stretches before and after count as the call.
        A C call begun inside a region that says what it is (a workload's, a
        recorded lock's) is what the region says: what is known beats what is
        inferred. So is the part of one after its last heartbeat, where that
        heartbeat opened such a region (``with lane.region(...)`` opens it from
        inside the C call ``next``).
    7.  Where a thread was silent with nothing marked, it was runnable:
        - while another thread held the GIL (a slice, a workload's C call, or an
          automatic C call found to hold it), or for a moment of at most
          MERGE_GAP_NS (the GIL changing hands): *waiting for the GIL*;
        - otherwise nobody in the process ran. The stretch belongs to the thread
          that ran last before it, not counting threads that gave the GIL away
          since (rule 3): that thread held the GIL. For a
          workload, *waiting for a core* (the operating system gave its core to
          something else); for automatically recorded code, *running*, inferred
          (Python that made no calls). The other silent threads were waiting for
          the GIL, asleep. So two threads never both run. Where every thread
          gave the GIL away since it last ran, nobody held it: a silent thread,
          free to run (its sleep was over), was *waiting for a core*.
        Without the GIL: waiting for a core, or running (inferred) for automatic.
    8.  A thread's lane begins when it was free to run (Thread.start was called,
        or the start line released it): until its first heartbeat it was silent,
        and rule 7 says what it waited for; where rule 7 finds no thread holding
        the GIL, it was *starting* (a new thread's bootstrap). A process's lane begins with
        *starting*, from when its parent asked for it to its first heartbeat.
        Every lane ends *finished* after its last heartbeat, or after a region still
        open when recording stopped (a thread blocked in ``q.get()`` for ever).
    9.  A task (a generator or coroutine taking turns on one thread) runs during
        its steps and is *awaiting* between them; a task still suspended when
        recording ended is awaiting until then.

    Each rule on made-up records (times in ns; ``show`` prints each lane as time, state, ...):

    >>> from array import array
    >>> from .timeline import RunInfo
    >>> GIL = RunInfo("threads", "3.13", True, False, 0.005, 2, 2)
    >>> def rec(name, beats, marks=(), auto=False, **kw):
    ...     return LaneRecord(name, "p", 1, 0, auto, 0, array("q", beats), list(marks), **kw)
    >>> def show(*records):
    ...     for lane in build_timeline(list(records), GIL).lanes:
    ...         spans = lane.spans
    ...         print(lane.name + ":", *(f"{s.start} {s.state}" for s in spans), spans[-1].end)

    Rules 1, 2 and 7: heartbeats 500 us apart (more than MERGE_GAP_NS) are two running
    spans; silent between, with nobody else running, a workload waited for a core.

    >>> show(rec("a", [0, 10, 500_000, 500_010]))
    a: 0 running 10 waiting for a core 500000 running 500010

    Rule 3: a's slice ends where b's heartbeat comes between two of a's.

    >>> tl = build_timeline([rec("a", [0, 10, 20, 30]), rec("b", [25, 35])], GIL)
    >>> [lane.slices for lane in tl.lanes]
    [((0, 20), (30, 30)), ((25, 25), (35, 35))]

    Rule 4: a workload's C call (100-900) ends at b's first heartbeat inside it (300).

    >>> show(rec("a", [0, 100, 900], [(100, 900, C_CALL, "crc32", -1)]),
    ...      rec("b", [50, 300, 310, 950]))
    a: 0 waiting for GIL 100 C call 300 waiting for GIL 900 finished 950
    b: 50 waiting for GIL 300 running 310 waiting for GIL 950

    Rule 5: between running spans, a thread is what its region says.

    >>> show(rec("a", [0, 100, 900], [(100, 900, BLOCKED, "sleep", -1)]))
    a: 0 running 100 blocked 900

    Rule 6: an automatic C call that computed (CPU 800 us of 900) while b ran Python
    released the GIL; one that did not compute, with nobody else wanting the GIL, waited.

    >>> show(rec("a", [0, 100, 900_000], [(100, 900_000, C_CALL_AUTO, "sha256", 800_000)], True),
    ...      rec("b", [50, 300_000, 300_010], auto=True))
    a: 0 waiting for GIL 100 C call, GIL released 900000
    b: 50 waiting for GIL 100 running 300000 running 300010 finished 900000
    >>> show(rec("a", [0, 100, 900_000], [(100, 900_000, C_CALL_AUTO, "sleep", 0)], True))
    a: 0 running 100 blocked 900000

    Nobody can tell whether that "sleep" let the GIL go (it is hatched, inferred); CPython's
    ``time.sleep`` always does (recorder.WAITS): it is known.

    >>> def blocked(label):
    ...     r = rec("a", [0, 100, 900_000], [(100, 900_000, C_CALL_AUTO, label, 0)], True)
    ...     return [(s.state, s.inferred) for s in build_timeline([r], GIL).lanes[0].spans][1]
    >>> blocked("sleep"), blocked("time.sleep")
    (('blocked', True), ('blocked', False))

    A region opened at 200 inside the C call ``next`` (100-300) is what it says from 200 on.

    >>> show(rec("a", [0, 100, 200, 900_000], [(100, 300, C_CALL_AUTO, "next", 0),
    ...                                        (200, 900_000, BLOCKED, "eat", -1)], True))
    a: 0 running 100 blocked 200 blocked 900000

    Rule 7: silent while b ran, a waited for the GIL; b, silent after it ran last, held it.

    >>> show(rec("a", [0, 10, 20, 1_000_000, 1_000_010]), rec("b", [15, 30, 40, 999_000]))
    a: 0 running 10 waiting for GIL 1000000 running 1000010
    b: 15 waiting for GIL 30 running 40 waiting for a core 999000 finished 1000010

    Rule 7, nobody holding the GIL: a's sleep (a workload's, 0.1-0.6 ms) was over at 0.6 ms,
    and its thread ran again at 0.9 ms, after more than a moment: it waited for a core.

    >>> show(rec("a", [0, 100_000, 900_000, 900_010], [(100_000, 600_000, BLOCKED, "sleep", -1)]))
    a: 0 running 100000 blocked 600000 waiting for a core 900000 running 900010

    Rule 8: a process asked for at 40 is starting until its first heartbeat; finished after.

    >>> show(rec("a", [100, 200], requested_ns=40), rec("b", [0, 300]))
    a: 40 starting 100 running 200 finished 300
    b: 0 waiting for GIL 300

    Rule 9: a task runs during its steps (10-20, 50-60) and is awaiting between them.

    >>> task = rec("t", [10, 20, 50, 60], kind="task")
    >>> show(task, rec("b", [0, 100]))
    t: 10 running 20 awaiting 50 running 60 finished 100
    b: 0 running 100
    """
    start, end, notes = run_bounds(records)
    lanes: list[Lane | None] = [None] * len(records)
    for i, r in enumerate(records):
        if r.kind == "task":
            lanes[i] = task_lane(r, end)
    threads = [r for r in records if r.kind != "task"]
    for pid in dict.fromkeys(r.pid for r in threads):  # each process in order of appearance
        members = [i for i, r in enumerate(records) if r.pid == pid and r.kind != "task"]
        built = build_process([records[i] for i in members], info.gil_enabled, merge_gap_ns, end,
                              hold_ns=int(info.switch_interval * 1e9))  # fmt: skip
        for i, lane in zip(members, built):
            lanes[i] = lane
    return Timeline(lanes=tuple(lanes), start=start, end=end, info=info, notes=tuple(notes))


def runs(events: list, continues) -> list[list]:
    """Split a time-ordered list of (time, lane) into runs: one goes on while continues(a, b)."""
    out: list[list] = []
    for ev in events:
        if out and continues(out[-1][-1], ev):
            out[-1].append(ev)
        else:
            out.append([ev])
    return out


def build_process(records: list[LaneRecord], gil: bool, gap: int, run_end: int,
                  hold_ns: int) -> list[Lane]:  # fmt: skip
    """Rules 1-8 for the threads of one process. ``hold_ns``: the switch interval."""
    n = len(records)
    # Rule 1: every heartbeat of the process, in time order (ties: by lane, then by order).
    events = sorted((t, i, k) for i, r in enumerate(records) for k, t in enumerate(r.beats))
    events = [(t, i) for t, i, _ in events]
    opens = [{m.start for m in split_at_callbacks(r)} for r in records]

    # Rule 2: running spans. Without the GIL each thread is read on its own.
    lists = [events] if gil else [[e for e in events if e[1] == i] for i in range(n)]
    running = [[] for _ in range(n)]
    for evs in lists:
        for run in runs(evs, lambda a, b: a[1] == b[1] and b[0] - a[0] <= gap
                        and a[0] not in opens[a[1]]):  # fmt: skip
            running[run[0][1]].append((run[0][0], run[-1][0]))

    # Rule 4: a C call that keeps the GIL ends at the next thread's heartbeat.
    marks = []
    for i, r in enumerate(records):
        ms = []
        for s, e, kind, label, cpu in sorted(split_at_callbacks(r)):
            waited = 0 <= cpu < COMPUTED_SHARE * (e - s)  # its CPU time says it waited
            if gil and kind == C_CALL_AUTO and not waited:
                inside = [(t, j) for t, j in events if j != i and s < t < e]
                if inside and inside[0][0] - s > max(gap, hold_ns):
                    f, j = inside[0]
                    before = [t for t, jj in events if jj == j and t < s]
                    if before and before[-1] not in opens[j]:  # j was ready: it waited
                        kind = C_CALL
            if gil and kind == C_CALL:
                e = min([t for t, j in events if j != i and s < t <= e], default=e)
            ms.append(Mark(s, e, kind, label, cpu))
        marks.append(ms)

    # Each lane as pieces in time order: ("run", start, end, None) between gaps cut
    # at its regions' ends, ("gap", start, end, innermost region or None).
    pieces = []
    for i in range(n):
        r = records[i]
        cursor = r.ready_ns if 0 < r.ready_ns < r.beats[0] else r.beats[0]
        lane_pieces = []
        for s, e in running[i]:
            if s > cursor:
                lane_pieces += [("gap", a, b, m) for a, b, m in cut_gap(cursor, s, marks[i])]
            lane_pieces.append(("run", s, e, None))
            cursor = max(cursor, e)
        tail = max((m.end for m in marks[i]), default=cursor)
        if tail > cursor:  # a call still open when recording stopped: up to then
            lane_pieces += [("gap", a, b, m) for a, b, m in cut_gap(cursor, tail, marks[i])]
        pieces.append(lane_pieces)
    silent = [[(s, e) for kind, s, e, m in p if kind == "gap" and m is None] for p in pieces]

    # Rule 6, before slices: whether each automatic C call released the GIL.
    decided = {}  # (lane, mark) -> (state, inferred) of an automatic C call
    for i in range(n):
        others_silent = [x for j in range(n) if j != i for x in silent[j]]
        for m in marks[i]:
            if m.kind == C_CALL_AUTO:
                decided[i, m] = decide_c_call(m, i, events, others_silent, gil)

    # Rule 3: slices end at a heartbeat that gives the GIL away (opens a region
    # that released it). Without the GIL, a slice is just a running span.
    releases = [{m.start for m in marks[i] if m.kind in RELEASES_GIL
                 or m.kind == C_CALL_AUTO and decided[i, m][0] in RELEASES_GIL}
                for i in range(n)]  # fmt: skip
    slices = [[] for _ in range(n)]
    if gil:
        for run in runs(events, lambda a, b: a[1] == b[1] and a[0] not in releases[a[1]]):
            slices[run[0][1]].append((run[0][0], run[-1][0]))
    else:
        slices = running
    # Who held the GIL when: slices, C calls that keep it, and automatic C calls
    # found to hold it.
    holding = [slices[i] + [(m.start, m.end) for m in marks[i] if m.kind == C_CALL]
               + [(m.start, m.end) for m in marks[i]
                  if m.kind == C_CALL_AUTO and decided[i, m] == (C_CALL, False)]
               for i in range(n)]  # fmt: skip
    # Rule 7's "ran last": heartbeats, each with whether it gave the GIL away.
    kept = [(t, j, t not in releases[j]) for t, j in events]

    beat_sets = [set(r.beats) for r in records]

    lanes = []
    for i, r in enumerate(records):
        others = [x for j in range(n) if j != i for x in holding[j]]
        spans = []
        if r.requested_ns and r.requested_ns < r.beats[0]:  # rule 8
            spans.append(Span(r.requested_ns, r.beats[0], STARTING))
        for kind, s, e, m in pieces[i]:
            if kind == "run":
                spans.append(Span(s, e, RUNNING))
            elif m is None:  # rule 7
                spans += silent_piece(s, e, i, r.auto, others, kept, gil, gap, r.beats[0])
            else:  # rule 6, or rule 5
                state, inferred = decided[i, m] if m.kind == C_CALL_AUTO else (m.kind, False)
                woke = woke_at(i, m, e, state, events, releases, slices, beat_sets, hold_ns)
                if gil and woke is not None and woke < e:
                    spans += [Span(s, max(s, woke), state, m.label, inferred),
                              Span(max(s, woke), e, WAITING_GIL)]
                else:
                    spans.append(Span(s, e, state, m.label, inferred))
        last = max(e for _, _, e, _ in pieces[i])
        if run_end > last:
            spans.append(Span(last, run_end, FINISHED))
        lanes.append(Lane(
            name=r.name, pid=r.pid, native_id=r.native_id, process_name=r.process_name,
            spans=tuple(clip(merge_adjacent(spans), run_end)), slices=tuple(slices[i]),
            cpu_ns=r.cpu_ns, auto=r.auto,
        ))  # fmt: skip
    return lanes


def woke_at(lane, mark, end, state, events, releases, slices, beat_sets, hold_ns):
    """Rule 5's wake-up: where the GIL wait at the end of a region that gave the GIL
    away began (None: it did not wait). ``end``: the end of the piece drawn."""
    if state not in RELEASES_GIL or end != mark.end or end not in beat_sets[lane]:
        return None
    before = [(t, j) for t, j in events if t < end]
    if not before or before[-1][1] == lane:
        return None  # nobody else ran since this thread's own last heartbeat
    p, j = before[-1]
    if p in releases[j] or p >= max(t for t, jj in events if jj == j):
        return None  # that thread gave the GIL away, or ended: nothing was taken from it
    slice_start = max(a for a, b in slices[j] if a <= p)
    return max(mark.start, slice_start, end - hold_ns)


def cut_gap(a: int, b: int, marks: list) -> list:
    """Cut the gap (a, b) at its regions' ends; each piece with its innermost region."""
    inside = [m for m in marks if m.start < b and m.end > a]
    cuts = sorted({a, b, *(x for m in inside for x in m[:2] if a < x < b)})
    out = []
    for s, e in zip(cuts, cuts[1:]):
        covering = [m for m in inside if m.start <= s and m.end >= e]
        out.append((s, e, max(covering, default=None)))  # the innermost: the latest to start
    return out


def covered(a: int, b: int, intervals: list) -> list[tuple[int, int, bool]]:
    """Cut (a, b) into pieces, each inside some interval of ``intervals`` or not."""
    cuts = sorted({a, b, *(x for s, e in intervals for x in (s, e) if a < x < b)})
    return [(s, e, any(x <= s and e <= y for x, y in intervals if y > x))
            for s, e in zip(cuts, cuts[1:])]  # fmt: skip


def last_to_keep_the_gil(beats, e):
    """Of the threads whose latest heartbeat before ``e`` did not give the GIL away, the
    one that ran last (None: nobody ran yet, every thread waits its turn)."""
    seen = set()
    for _, j, keeps in reversed([b for b in beats if b[0] < e]):
        if j not in seen:
            if keeps:
                return j
            seen.add(j)  # it gave the GIL away and has not run since
    return None


def silent_piece(a, b, lane, auto, others, kept, gil, gap, first) -> list[Span]:
    """Rule 7: a stretch in which the thread was silent and had not said why."""
    alone = Span(a, b, RUNNING, inferred=True) if auto else Span(a, b, WAITING_CPU)
    if not gil:
        return [alone]
    out = []
    for s, e, held in covered(a, b, others):
        if held or e - s <= gap:
            out.append(Span(s, e, WAITING_GIL))
        else:  # nobody in the process ran: the thread that ran last held the GIL
            holder = last_to_keep_the_gil(kept, e)
            if holder is None:  # nobody holds it: free to run, the thread did not get a core
                out.append(Span(s, e, STARTING if e <= first else WAITING_CPU))  # or starts
                continue
            out.append(Span(s, e, alone.state, inferred=alone.inferred) if holder == lane
                       else Span(s, e, WAITING_GIL))  # fmt: skip
    return out


def decide_c_call(mark, lane, events, others_silent, gil) -> tuple[str, bool]:
    """Rule 6: the state of an automatically recorded C call, and whether it is inferred.

    Decided for the whole call: a C function releases the GIL for all of its work.
    """
    start, end, _, label, cpu = mark
    computed = cpu >= COMPUTED_SHARE * (end - start)  # unmeasured (-1): as a wait if released
    unmeasured = cpu < 0
    released = C_CALL_NO_GIL if computed else BLOCKED
    if label in WAITS and not computed:
        return BLOCKED, False  # a sleep, a lock, a join: it let the GIL go while it waited
    if not gil or any(start < t < end for t, j in events if j != lane):
        return released, unmeasured  # another thread ran Python meanwhile: it released it
    waited = sum(max(0, min(end, y) - max(start, x)) for x, y in others_silent)
    if waited > (end - start) / 2:  # another thread wanted the GIL and did not get it
        return C_CALL, False
    return (C_CALL if computed or unmeasured else BLOCKED), True  # nobody wanted it


def merge_adjacent(spans: list[Span]) -> list[Span]:
    """Join touching spans of the same state and label; drop empty ones."""
    out: list[Span] = []
    for s in spans:
        if s.end <= s.start:
            continue
        last = out[-1] if out else None
        if last and (last.state, last.label, last.inferred) == (s.state, s.label, s.inferred) \
                and s.start <= last.end:
            out[-1] = Span(last.start, s.end, s.state, s.label, s.inferred)
        else:
            out.append(s)
    return out


def clip(spans: list[Span], end: int) -> list[Span]:
    """Spans up to ``end`` (a recording cut short at its memory cap ends there)."""
    return [s if s.end <= end else Span(s.start, end, s.state, s.label, s.inferred)
            for s in spans if s.start < end]  # fmt: skip
