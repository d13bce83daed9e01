"""The picture and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import helpers
from helpers import workloads as w


def test_plot_draws_a_row_per_thread_with_a_legend_and_zooms(no_leftovers):
    tl = helpers.run_threads([w.cpu(0.1), w.cpu(0.1), w.sleep(0.05)])
    fig = tl.plot()
    ax = fig.axes[0]
    rows = [t.get_text().split("\n")[0] for t in ax.get_yticklabels()]
    assert rows == ["cpu-1", "cpu-2", "sleep-3"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "running Python (holds the GIL)" in legend and "waiting for the GIL" in legend
    assert "GIL enabled" in ax.get_title(loc="left")
    zoomed = tl.plot(window=(50, 60))
    assert zoomed.axes[0].get_xlim() == (50, 60)
    with pytest.raises(ValueError, match="window"):
        tl.plot(window=(60, 50))


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_cli_records_threads_to_a_trace_and_a_png(tmp_path):
    out = run_cli("record", "--workload", "cpu,cpu,sleep", "--seconds", "0.1", "--switch-interval",
                  "2", "--out", "t.json", "--png", "t.png", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    trace = json.loads((tmp_path / "t.json").read_text())
    names = [e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"]
    assert names == ["cpu-1", "cpu-2", "sleep-3"]
    assert trace["otherData"]["switch_interval"] == 0.002
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "switch interval 2 ms" in out.stdout


@pytest.mark.parametrize("start_method", ["spawn", "forkserver", "fork"])
def test_cli_records_processes(tmp_path, start_method):
    out = run_cli("record", "--workload", "cpu,sleep", "--processes", "--seconds", "0.1",
                  "--start-method", start_method, "--out", "p.json", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    trace = json.loads((tmp_path / "p.json").read_text())
    assert len({e["pid"] for e in trace["traceEvents"]}) == 2
    assert trace["otherData"]["start_method"] == start_method


def test_cli_explains_bad_input(tmp_path):
    out = run_cli("record", "--workload", "cpu,gpu", "--out", "x.json", cwd=tmp_path)
    assert out.returncode == 2 and "unknown workload 'gpu'; choose one of" in out.stderr
    out = run_cli("record", "--workload", "cpu", "--seconds", "0", "--out", "x.json", cwd=tmp_path)
    assert out.returncode == 2 and "more than 0" in out.stderr
    assert not (tmp_path / "x.json").exists()


def test_cli_shows_cores(tmp_path):
    out = run_cli("cores", cwd=tmp_path)
    assert out.returncode == 0 and "usable" in out.stdout


def test_plot_is_readable_on_a_projector(no_leftovers):
    """A notebook shows figures at 100 dpi and shrinks those wider than its output area
    (about 1,080 px in JupyterLab at 1280 px): no wider than 1,000 px, text at least 11 pt."""
    from matplotlib.text import Text

    from helpers import picture

    tl = helpers.run_threads([w.cpu(0.05), w.sleep(0.05)])
    fig = tl.plot()
    assert fig.get_size_inches()[0] * 100 <= 1000
    texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    assert texts and min(t.get_fontsize() for t in texts) >= 11
    fig.canvas.draw()  # the legend sits under the time axis, not beside the timeline
    ax = fig.axes[0]
    legend, axes = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.y1 < axes.y0 and legend.x1 <= fig.bbox.x1
    assert picture.figure_size(2)[0] == picture.WIDTH


def test_compare_reads_concurrency_and_parallelism_and_stacks_timelines(no_leftovers):
    from helpers.lessons import compare

    tl = helpers.run_threads([w.cpu(0.05), w.sleep(0.05)])
    assert compare.concurrent(tl)
    # A sleeping thread is not executing: the OS counted almost no CPU time for it, so
    # the parallel time read from the picture is none.
    assert tl.stats()[1].cpu_ms < 5 and compare.parallel_ms(tl) == 0.0
    fig = compare.stacked([tl, tl], ["first", "second"])
    assert len(fig.axes) == 2 and fig.axes[0].get_xlim() == fig.axes[1].get_xlim()
    assert fig.axes[0].get_legend() is None and fig.axes[1].get_legend() is not None
    line = tl.info.describe()  # the Python and the machine: said once, in the top title
    assert [ax.get_title(loc="left").count(line) for ax in fig.axes] == [1, 0]
    assert fig.axes[1].get_title(loc="left") == f"second: {tl.wall_ms:.0f} ms"
    with pytest.raises(ValueError, match="one title per timeline"):
        compare.stacked([tl], ["a", "b"])


def test_a_label_is_written_only_where_it_fits_its_bar():
    from records import MS, build, every, record

    long_label = "waiting for the others to start, a label much longer than its bar"
    a = record("a", every(0, 1) + every(9, 10), marks=[(1 * MS, 9 * MS, helpers.BLOCKED, "sleep")])
    b = record("b", every(0, 1) + every(4, 10), tid=2,
               marks=[(1 * MS, 4 * MS, helpers.BLOCKED, long_label)])  # fmt: skip
    fig = build([a, b]).plot()
    written = {t.get_text() for t in fig.axes[0].texts}
    assert "sleep" in written, "80% of the axis is room enough for a short label"
    assert long_label not in written, "30% is not, for this one: it would spill out of its bar"
