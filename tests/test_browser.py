"""Every lesson notebook opens, runs and renders in JupyterLab in a real headless browser.

The server runs on a temporary copy of the notebook folder, so nothing is ever saved back
with outputs. Chromium is Debian's /usr/bin/chromium driven by Playwright (never
`playwright install`). A full-page screenshot of each notebook goes to
build/screenshots/NAME.png.

Each notebook's quiz (helpers.lessons.quiz) is answered with a click on its first question's right
answer, which must show "Right." and its explanation; the page must fetch nothing from
outside this machine. Two notebooks (CLASSROOM) run in classroom mode (helpers.classroom(), in
a cell added at the top of the throwaway copy), in JupyterLab's presentation mode and simple
interface at 1280x720: widget text must be 20 px, and build/screenshots/NAME-classroom.png
shows the first timeline as a room would see it.

The instructor guide's cards are rendered as GitHub renders Markdown (tests/guide_md.py) and
measured at 1280x720: each must fit one screen (build/screenshots/guide-card-NN.png).

    COURSE_NOTEBOOK_DIR=/some/dir pytest tests/test_browser.py   # test other notebooks
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = Path(os.environ.get("COURSE_NOTEBOOK_DIR", ROOT / "notebooks")).resolve()
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9]*.ipynb"))
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous on a busy 2-core machine, but bounded.
SERVER_START_TIMEOUT = 120  # s
PAGE_TIMEOUT = 120_000  # ms, for JupyterLab to load and a kernel to start
CLASSROOM = {"04_the_gil", "05_multiple_pythons"}
RUN_TIMEOUT = float(os.environ.get("COURSE_NOTEBOOK_TIMEOUT", 600))  # s, to run one notebook

# Settings for a clean, quiet, offline JupyterLab: no news or update checks, every cell
# attached to the DOM (no virtual scrolling), so the checks and the screenshot see all of it.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _missing(reason: str):
    """In CI a missing browser is a failure, locally a skip with the reason."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET"):
    req = urllib.request.Request(
        f"{base}{path}", method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab server on a temporary copy of NOTEBOOK_DIR; yields (base_url, token)."""
    tmp = Path(tempfile.mkdtemp(prefix="course-browser-"))
    root = tmp / "root"
    # Copy the whole folder: notebooks may load solutions/ or other files next to them.
    shutil.copytree(
        NOTEBOOK_DIR, root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints")
    )
    settings = tmp / "settings"
    for name, value in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    port, token = _free_port(), "course-browser-test"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to run commands
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        "--ServerApp.shutdown_no_activity_timeout=1800",  # a last resort if all else fails
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTER_PREFER_ENV_PATH="1", PYTHONUNBUFFERED="1")
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {proc.returncode}")
            try:
                _api(base, token, "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start in time") from None
                time.sleep(0.5)
        yield base, token
    except BaseException:
        log.flush()
        sys.stderr.write((tmp / "server.log").read_text(errors="replace")[-5000:])
        raise
    finally:
        _stop_server(proc, base, token)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _stop_server(proc: subprocess.Popen, base: str, token: str) -> None:
    # Kernels run in their own sessions, so ask the server to shut them down with it;
    # then make sure, with signals to the server's process group.
    if proc.poll() is None:
        try:
            _api(base, token, "/api/shutdown", method="POST")
            proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            pass
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture(scope="module")
def browser_context():
    if not os.path.exists(CHROMIUM):
        _missing(f"{CHROMIUM} not found: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed: pip install -e '.[test]'")
    with tempfile.TemporaryDirectory(prefix="course-chromium-") as profile:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,  # a fresh --user-data-dir
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
            )
            try:
                yield context
            finally:
                context.close()


# Runs in the page: the state of the current notebook, from JupyterLab's own models.
STATE_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = Array.from(panel.content.model.cells);
  const code = cells.filter(c => c.type === 'code');
  const errors = [];
  code.forEach((c, i) => {
    if ((c.getMetadata('tags') || []).includes('raises-exception')) return;  // expected
    for (let j = 0; j < c.outputs.length; j++) {
      const o = c.outputs.get(j).toJSON();
      const text = [].concat(o.text || []).join('');
      if (o.output_type === 'error') errors.push(`code cell ${i + 1}: ${o.ename}: ${o.evalue}`);
      else if (o.name === 'stderr' && text.includes('Traceback'))
        errors.push(`code cell ${i + 1} stderr: ${text.slice(0, 500)}`);
    }
  });
  return {
    kernel: kernel ? kernel.status : 'none',
    code: code.length,
    executed: code.filter(c => c.executionCount !== null).length,
    errors,
  };
}"""

# Runs in the page: what the learner would see that is wrong. A widget view renders as an
# output holding .jupyter-widgets / .widget-* elements (it has no data-mime-type attribute);
# without the ipywidgets extension it falls back to text/plain like "IntSlider(value=3)".
DOM_PROBLEMS_JS = """() => {
  const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
  const problems = [];
  if (document.body.innerText.includes('Error displaying widget'))
    problems.push('"Error displaying widget" on the page');
  const panel = window.jupyterapp.shell.currentWidget;
  panel.content.widgets.filter(c => c.model.type === 'code').forEach((cell, i) => {
    if (!(cell.model.getMetadata('tags') || []).includes('raises-exception')) {
      for (const el of cell.node.querySelectorAll(
          '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')) {
        if (el.innerText.includes('Traceback'))
          problems.push(`code cell ${i + 1} shows a traceback: ` + el.innerText.slice(0, 300));
      }
    }
    let expected = 0;
    for (let j = 0; j < cell.model.outputs.length; j++)
      if (cell.model.outputs.get(j).data[WIDGET_MIME]) expected++;
    const rendered = Array.from(cell.node.querySelectorAll('.jp-OutputArea-output')).filter(
      el => el.querySelector('.jupyter-widgets, [class*="widget-"]')).length;
    if (rendered < expected)
      problems.push(`code cell ${i + 1}: ${expected} widget outputs, ${rendered} rendered as ` +
                    'widgets (is the ipywidgets JupyterLab extension installed?)');
  });
  return problems;
}"""


READY_JS = """() => {
  const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return p && p.sessionContext && p.sessionContext.session && p.sessionContext.session.kernel
         && p.sessionContext.session.kernel.status === 'idle';
}"""
# Run > Run All Cells, through JupyterLab's command registry (window.jupyterapp exists because
# of --LabApp.expose_app_in_browser). Fire and forget: its promise resolves only at the end.
RUN_ALL_JS = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"


def _wait_for_run(page, deadline: float) -> dict:
    """Poll until the kernel is idle and every code cell ran (or an error stopped the run)."""
    idle_since = None
    started = time.monotonic()
    retried = False
    while True:
        state = page.evaluate(STATE_JS)
        finished = state["executed"] == state["code"] or state["errors"]
        if state["kernel"] == "idle" and finished:
            # Let late outputs (widgets, threads' prints) arrive: idle for a second in a row.
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= 1.0:
                return state
        else:
            idle_since = None
        if state["kernel"] == "dead":
            pytest.fail(f"the kernel died: {state}", pytrace=False)
        if (
            not retried
            and state["executed"] == 0
            and state["kernel"] == "idle"
            and time.monotonic() - started > 30
        ):
            # Nothing started: the command went to a notebook that was not ready. Once more.
            retried = True
            page.evaluate(RUN_ALL_JS)
        if time.monotonic() > deadline:
            pytest.fail(f"not finished after {RUN_TIMEOUT:.0f} s: {state}", pytrace=False)
        page.wait_for_timeout(250)


# Runs in the page: click the first question's right answer (its button's text, letter
# included, is passed in), return the feedback shown, or why not.
QUIZ_CLICK_JS = """(answer) => {
  const quiz = document.querySelector('.course-quiz');
  if (!quiz) return {error: 'no quiz rendered (.course-quiz)'};
  const buttons = Array.from(quiz.querySelectorAll('button.course-quiz-answer'));
  const button = buttons.find(b => b.innerText.trim() === answer.trim());
  if (!button) return {error: `no answer button "${answer}" among ${buttons.length}`};
  button.click();
  return {clicked: true};
}"""
QUIZ_FEEDBACK_JS = """() => {
  const fb = document.querySelector('.course-quiz .course-quiz-feedback');
  const chosen = document.querySelector('.course-quiz button.course-quiz-chosen');
  return {text: fb ? fb.innerText : null,
          success: chosen ? chosen.classList.contains('mod-success') : null};
}"""
CLASSROOM_CELL = "# Classroom mode for this run (added by the browser test)\n" + \
    "import helpers\nhelpers.classroom()"
INSERT_CELL_JS = """(source) => {
  const panel = window.jupyterapp.shell.currentWidget;
  panel.content.model.sharedModel.insertCell(0, {cell_type: 'code', source: source});
}"""


def _check_quiz(page, notebook: Path) -> list[str]:
    """Click the right answer of the first question (its button: letter and text); the
    explanation must show."""
    from helpers.lessons import quiz

    questions = json.loads((notebook.parent / "quizzes" / f"{notebook.stem}.json").read_text())
    index, right = next((i, a) for i, a in enumerate(questions[0]["answers"]) if a["correct"])
    clicked = page.evaluate(QUIZ_CLICK_JS, quiz.label(index, right["answer"]))
    if "error" in clicked:
        return [f"quiz: {clicked['error']}"]
    deadline = time.monotonic() + 20
    while True:
        shown = page.evaluate(QUIZ_FEEDBACK_JS)
        if shown["text"] and "Right." in shown["text"]:
            break
        if time.monotonic() > deadline:
            return [f"quiz: a click on the right answer showed {shown}"]
        page.wait_for_timeout(200)
    words = right["feedback"].replace("`", "")[:30]
    if words not in shown["text"].replace("`", "") or not shown["success"]:
        return [f"quiz: the right answer shows {shown}, not its explanation {words!r}"]
    return []


def _classroom_screenshot(page, path: Path) -> list[str]:
    """Presentation mode and the simple interface at 1280x720, scrolled to the first timeline."""
    page.evaluate("""async () => {
        const app = window.jupyterapp;
        if (!app.shell.presentationMode)
            await app.commands.execute('application:toggle-presentation-mode');
        if (app.shell.mode !== 'single-document') app.shell.mode = 'single-document';
    }""")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(500)
    problems = []
    state = page.evaluate("""() => ({
        presentation: window.jupyterapp.shell.presentationMode,
        simple: window.jupyterapp.shell.mode === 'single-document',
        widgetFont: (() => { const el = document.querySelector('.jupyter-widgets .widget-label,'
                                + ' .jupyter-widgets button');
                             return el ? parseFloat(getComputedStyle(el).fontSize) : null; })(),
    })""")
    if not (state["presentation"] and state["simple"]):
        problems.append(f"presentation mode or simple interface did not turn on: {state}")
    if state["widgetFont"] is None or state["widgetFont"] < 20:
        problems.append(f"classroom mode: widget text is {state['widgetFont']} px, not 20")
    page.evaluate("""() => {
        const imgs = Array.from(document.querySelectorAll('.jp-OutputArea-output img'));
        const big = imgs.find(i => i.naturalHeight > 300);
        if (big) big.scrollIntoView({block: 'start'});
    }""")
    page.wait_for_timeout(500)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return problems


def _screenshot(page, path: Path) -> None:
    # JupyterLab scrolls inside the notebook, not the page: grow the viewport to the
    # notebook's height (bounded) so the full-page screenshot shows every cell.
    hidden = page.evaluate(
        """() => { const nb = window.jupyterapp.shell.currentWidget.content.node;
                   const n = nb.querySelector('.jp-WindowedPanel-outer') || nb;
                   n.scrollTop = 0;
                   return n.scrollHeight - n.clientHeight; }"""
    )
    height = page.viewport_size["height"] + max(0, int(hidden)) + 50
    page.set_viewport_size({"width": 1280, "height": min(height, 20000)})
    page.wait_for_timeout(500)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(notebook: Path, browser_context, lab):
    base, token = lab
    rel = notebook.relative_to(NOTEBOOK_DIR).as_posix()
    page = browser_context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT)
    console_errors, outside = [], []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    page.on("request", lambda req: outside.append(req.url)
            if not req.url.startswith((base, "data:", "blob:")) else None)  # fmt: skip
    try:
        # A workspace of its own, reset: only this notebook opens, not the earlier ones' tabs.
        workspace = f"{base}/lab/workspaces/{notebook.stem}-{os.getpid()}"
        page.goto(f"{workspace}/tree/notebooks/{rel}?reset&token={token}", wait_until="load")
        page.wait_for_function(READY_JS)
        page.evaluate(
            """async () => { const p = window.jupyterapp.shell.currentWidget;
                             await p.context.ready; await p.sessionContext.ready;
                             await p.revealed; window.jupyterapp.shell.collapseLeft(); }"""
        )
        classroom = notebook.stem in CLASSROOM
        if classroom:
            page.evaluate(INSERT_CELL_JS, CLASSROOM_CELL)
        deadline = time.monotonic() + RUN_TIMEOUT
        page.evaluate(RUN_ALL_JS)
        state = _wait_for_run(page, deadline)
        page.wait_for_timeout(1000)  # let widgets and images finish rendering
        dom_problems = page.evaluate(DOM_PROBLEMS_JS)
        quiz_problems = _check_quiz(page, notebook)
        _screenshot(page, SCREENSHOTS / f"{notebook.stem}.png")
        if classroom:
            quiz_problems += _classroom_screenshot(
                page, SCREENSHOTS / f"{notebook.stem}-classroom.png")

        problems = state["errors"] + dom_problems + quiz_problems
        if outside:
            problems.append(f"fetched from outside this machine: {sorted(set(outside))[:5]}")
        if state["executed"] != state["code"]:
            problems.append(f"only {state['executed']} of {state['code']} code cells ran")
        if problems and console_errors:
            problems.append("browser console errors: " + "; ".join(console_errors[:5]))
        assert not problems, f"{rel}:\n" + "\n".join(problems)
    finally:
        # Close without saving (the server runs on a throwaway copy anyway), and free the kernel.
        page.close()
        try:
            for session in _api(base, token, "/api/sessions"):
                _api(base, token, f"/api/sessions/{session['id']}", method="DELETE")
        except OSError:
            pass


# ---- the instructor guide's cards, each one screen ------------------------------------------

SCREEN = {"width": 1280, "height": 720}

# Runs in the rendered guide: for each card (an h2 "NN · Title" up to the next h2), its height
# from the top of the heading to the bottom of its last block (the "notes on NN" line).
CARD_HEIGHTS_JS = """() => {
  const found = {};
  for (const h of document.querySelectorAll('h2')) {
    const m = h.textContent.match(/^(\\d\\d) · /);
    if (!m) continue;
    let last = h;
    for (let el = h.nextElementSibling; el && el.tagName !== 'H2'; el = el.nextElementSibling)
      last = el;
    const top = h.getBoundingClientRect().top, bottom = last.getBoundingClientRect().bottom;
    found[m[1]] = {height: Math.round(bottom - top), top: Math.round(top + window.scrollY)};
  }
  return found;
}"""


def test_each_guide_card_fits_one_screen(browser_context):
    """Issue 21: an instructor finds what to say and point at for the notebook on the screen in
    30 seconds. Each card of notebooks/INSTRUCTOR_GUIDE.md, rendered as GitHub renders it
    (tests/guide_md.py: CommonMark and tables, github-markdown-css's sizes, 16 px text, line
    height 1.5, a 980 px column), from its "## NN · Title" to its "notes on NN" line, is at most
    one 1280x720 screen high. This machine has only DejaVu Sans, wider than GitHub's fonts, so
    lines wrap sooner than on GitHub: a card that fits here fits there.
    build/screenshots/guide-card-NN.png shows each card as the screen would."""
    import guide_md

    text = guide_md.read()
    expected = sorted(guide_md.cards(text))
    assert len(expected) >= 18, "the guide should have a card per notebook"
    page = browser_context.new_page()
    try:
        page.set_viewport_size(SCREEN)
        page.set_content(guide_md.render(text))
        body = page.evaluate("getComputedStyle(document.querySelector('.markdown-body'))"
                             ".fontSize + ' ' + getComputedStyle(document.querySelector("
                             "'.markdown-body')).lineHeight")  # fmt: skip
        assert body == "16px 24px", f"the page is not styled as GitHub's Markdown: {body}"
        heights = page.evaluate(CARD_HEIGHTS_JS)
        assert sorted(heights) == expected, "a card's heading did not render as an h2"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for nn, card in sorted(heights.items()):
            page.evaluate(f"window.scrollTo(0, {card['top']})")
            page.screenshot(path=str(SCREENSHOTS / f"guide-card-{nn}.png"))
    finally:
        page.close()
    print("card heights (px):", {nn: c["height"] for nn, c in sorted(heights.items())})
    too_tall = {nn: c["height"] for nn, c in sorted(heights.items())
                if c["height"] > SCREEN["height"]}  # fmt: skip
    assert not too_tall, (f"cards taller than a {SCREEN['height']} px screen (px): {too_tall}; "
                          "shorten them (keep the keys and the predictions' answers)")
