"""Command line: record a run and save its trace (and a picture) for instructors and tests.

    python -m helpers record --workload cpu,cpu,sleep --out trace.json --png timeline.png
    python -m helpers record --workload cpu,cpu --processes --start-method spawn --out t.json
    python -m helpers cores
"""

from __future__ import annotations

import argparse
import os
import sys

from . import run_processes, run_threads, save_trace, system, workloads
from .processes import START_METHODS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run workloads in threads or processes and save a trace")
    rec.add_argument("--workload", required=True,
                     help=f"comma-separated workload names: {', '.join(workloads.BY_NAME)}")
    rec.add_argument("--processes", action="store_true", help="one process per workload")
    rec.add_argument("--seconds", type=float, default=0.5, help="each workload's length (0.5)")
    rec.add_argument("--switch-interval", type=float, metavar="MS",
                     help="sys.setswitchinterval for the run, in milliseconds")
    rec.add_argument("--start-method", choices=START_METHODS, help="for --processes")
    rec.add_argument("--out", required=True, help="Chrome Trace Event JSON file to write")
    rec.add_argument("--png", help="also save the Gantt chart as a PNG")
    sub.add_parser("cores", help="show the cores this process can use")
    args = parser.parse_args(argv)

    if args.command == "cores":
        print(system.cores())
        return 0
    # Check everything before the run, which may take a while: a typo should not cost it.
    for option, path in (("--out", args.out), ("--png", args.png)):
        if path is not None:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                parser.error(f"{option} {path}: the folder {folder} does not exist")
            if not os.access(folder, os.W_OK):
                parser.error(f"{option} {path}: the folder {folder} is not writable")
    if args.switch_interval is not None and not 0 < args.switch_interval <= 1000:
        parser.error(f"--switch-interval is in milliseconds, more than 0 and at most 1000; "
                     f"got {args.switch_interval:g}")
    try:
        tasks = [workloads.by_name(n.strip(), args.seconds) for n in args.workload.split(",")]
        interval = args.switch_interval / 1000 if args.switch_interval is not None else None
        if args.processes:
            tl = run_processes(tasks, start_method=args.start_method, switch_interval=interval)
        else:
            if args.start_method:
                parser.error("--start-method goes with --processes")
            tl = run_threads(tasks, switch_interval=interval)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    save_trace(tl, args.out)
    print(tl.stats_table())
    print(f"trace written to {args.out} (open it in https://ui.perfetto.dev)")
    if args.png:
        tl.plot().savefig(args.png, dpi=110)
        print(f"picture written to {args.png}")
    return 0


if __name__ == "__main__":  # the guard matters: spawned children import this module
    sys.exit(main())
