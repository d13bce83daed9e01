"""A classroom on JupyterHub: the course's hub config, its nbgitpuller link, three learners at once.

The fast tests (the link command, the config's loopback-only settings, the image recipe for
Zero to JupyterHub) run with the package's tests. The classroom test is marked `hub` and runs
with `make test-hub`:

    .venv/bin/python -m pytest -m hub tests/test_hub.py -s

It starts JupyterHub (hub/jupyterhub_config.py) with configurable-http-proxy from npm on
loopback; three learners open the course's nbgitpuller link in headless Chromium at the same
time, log in, get their own copy of the course cloned into their own home, then run every cell
of 00 and 04 in JupyterLab. Every cell must succeed, and the notebooks assert their claims on
the cores the three share. Screenshots: build/screenshots/hub-LEARNER-NOTEBOOK.png; each
learner's times and 04's statistics are printed and written to build/screenshots/hub-report.txt.
Everything started is stopped at the end, on failure too: the hub stops the learners' servers
(which stop their kernels) and the proxy; anything still alive that carries this run's mark in
its environment is then killed, and its survival fails the test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from checks import missing

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import nbgitpuller_link  # noqa: E402 (tools/ is not a package)
from test_browser import (  # noqa: E402 (the browser test's launch flags and run helpers)
    CHROMIUM,
    CHROMIUM_ARGS,
    DOM_PROBLEMS_JS,
    LAB_SETTINGS,
    NOTEBOOK_DIR,
    PAGE_TIMEOUT,
    READY_JS,
    RUN_ALL_JS,
    SCREENSHOTS,
    _free_port,
    _missing,
    _screenshot,
    _wait_for_run,
)

CONFIG = ROOT / "hub" / "jupyterhub_config.py"
NPM_CHP = ROOT / "build" / "hub-npm" / "node_modules" / ".bin" / "configurable-http-proxy"
LEARNERS = ["learner1", "learner2", "learner3"]
NOTEBOOKS = ["00_start_here.ipynb", "04_the_gil.ipynb"]
COURSE = "concurrency-course"  # the folder nbgitpuller clones into, in each home
HUB_START_TIMEOUT = 120  # s
LOGIN_TIMEOUT = 300  # s: log in, start the learner's server, clone the course, open JupyterLab
CLASS_TIMEOUT = LOGIN_TIMEOUT + 2 * 600 + 120  # s: a learner's whole visit (test_browser's 600)
STOP_TIMEOUT = 60  # s for the hub to stop servers, kernels and proxy


# --- the nbgitpuller link command ---


def test_link_clones_into_the_home_and_opens_the_notebook():
    url = nbgitpuller_link.link(
        "https://hub.example.edu/", "https://github.com/someone/concurrency-course.git",
        branch="spring", notebook="notebooks/04_the_gil.ipynb",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "hub.example.edu")
    # user-redirect sends each learner to their own server, logging in first if needed
    assert parts.path == "/hub/user-redirect/git-pull"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "repo": "https://github.com/someone/concurrency-course.git",
        "branch": "spring",
        "targetpath": "concurrency-course",
        "urlpath": "lab/tree/concurrency-course/notebooks/04_the_gil.ipynb",
    }


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hub": "hub.example.edu"}, "the hub URL must be a full URL"),
        ({"repo": "github.com/someone/course"}, "the repository URL must be a full URL"),
        ({"repo": "https://github.com/OWNER/REPO"}, "placeholder"),
        ({"notebook": "notebooks/00_start_here"}, "an .ipynb"),
        ({"notebook": "../../etc/passwd.ipynb"}, "an .ipynb inside the repository"),
        ({"branch": "two words"}, "branch name"),
    ],
)
def test_link_refuses_bad_input_and_says_what_to_do(kwargs, message):
    args = {"hub": "https://hub.example.edu", "repo": "https://github.com/someone/course"}
    with pytest.raises(nbgitpuller_link.LinkError, match=message):
        nbgitpuller_link.link(**{**args, **kwargs})


def _run_cli(args, root, capsys):
    try:
        status = nbgitpuller_link.main(args, root=root)
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out.strip(), err


def test_link_command_reads_the_repository_from_one_setting(tmp_path, capsys):
    hub = ["--hub", "https://hub.example.edu"]
    # nothing set: a clear error naming both ways to set it
    status, out, err = _run_cli(hub, tmp_path, capsys)
    assert status == 2 and not out
    assert "--repo" in err and "course.toml" in err
    # pyproject.toml's [project.urls] Repository
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[project.urls]\nRepository = "https://github.com/a/from-pyproject"\n'
    )
    status, out, _ = _run_cli(hub, tmp_path, capsys)
    assert status == 0 and "repo=https%3A%2F%2Fgithub.com%2Fa%2Ffrom-pyproject&branch=main" in out
    # course.toml wins over pyproject.toml, and sets the branch
    (tmp_path / "course.toml").write_text(
        'repository = "https://github.com/a/from-course-toml"\nbranch = "2027"\n'
    )
    status, out, _ = _run_cli(hub, tmp_path, capsys)
    assert status == 0 and "from-course-toml&branch=2027&targetpath=from-course-toml" in out
    # and --repo, --branch and --notebook win over both
    status, out, _ = _run_cli(
        [*hub, "--repo", "https://gitlab.com/b/c", "--branch", "x",
         "--notebook", "notebooks/04_the_gil.ipynb"], tmp_path, capsys,
    )
    assert status == 0 and out == nbgitpuller_link.link(
        "https://hub.example.edu", "https://gitlab.com/b/c", "x", "notebooks/04_the_gil.ipynb"
    )
    # a placeholder left in the setting is an error, not a broken link
    (tmp_path / "course.toml").write_text('[course]\nrepository = "https://github.com/OWNER/REPO"\n')
    status, out, err = _run_cli(hub, tmp_path, capsys)
    assert status == 2 and "placeholder" in err and not out


def test_link_docstring_example_holds():
    import doctest

    result = doctest.testmod(nbgitpuller_link, verbose=False)
    assert result.attempted and not result.failed


def test_hub_readme_links_resolve_and_commands_name_real_files():
    readme = ROOT / "hub" / "README.md"
    text = readme.read_text()
    targets = re.findall(r"\]\(([^)#\s]+)\)", text)
    local = [t for t in targets if "://" not in t]
    assert local and all((readme.parent / t).exists() for t in local), local
    for path in re.findall(r"(?:python|-f) ((?:tools|hub)/[\w./-]+\.py)", text):
        assert (ROOT / path).exists(), path
    # the proxy version the README and CI install is the one the config's comment names
    assert "configurable-http-proxy@5.2.0" in text
    assert "configurable-http-proxy@5.2.0" in (ROOT / ".ci" / "run").read_text()
    assert "configurable-http-proxy@5.2.0" in CONFIG.read_text()


def test_link_command_runs_from_the_command_line():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "nbgitpuller_link.py"),
         "--hub", "http://127.0.0.1:8000", "--repo", "https://github.com/a/b"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert result.stdout.startswith("http://127.0.0.1:8000/hub/user-redirect/git-pull?repo=")


# --- the hub's config and the image recipe ---


def _load_config(env: dict[str, str]):
    """The config as JupyterHub loads it (traitlets), with `env` in os.environ meanwhile."""
    from traitlets.config.loader import PyFileConfigLoader

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_hub_config_listens_on_loopback_only_and_says_it_is_for_testing(tmp_path):
    c = _load_config({"COURSE_HUB_STATE": str(tmp_path), "COURSE_HUB_PORT": "8123"})
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8123/"
    assert c.JupyterHub.hub_ip == "127.0.0.1"
    assert urlsplit(c.ConfigurableHTTPProxy.api_url).hostname == "127.0.0.1"
    assert c.Spawner.ip == "127.0.0.1"
    # state in the folder given, each learner a home of their own there
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"
    assert c.SimpleLocalProcessSpawner.home_dir_template == str(tmp_path / "homes" / "{username}")
    assert c.JupyterHub.cleanup_servers is True and c.JupyterHub.cleanup_proxy is True
    # the test's authenticator and spawner, and the file says loudly what a class needs instead
    assert c.JupyterHub.authenticator_class == "jupyterhub.auth.DummyAuthenticator"
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.SimpleLocalProcessSpawner"
    text = CONFIG.read_text()
    assert "NOT FOR A REAL CLASS" in text and "A real class needs a real authenticator" in text
    readme = (ROOT / "hub" / "README.md").read_text()
    assert "real authenticator" in readme and "DummyAuthenticator" in readme


def test_z2jh_values_use_the_binder_image_and_a_cpu_guarantee():
    import yaml  # PyYAML comes with jupyterlab (jupyter-events)

    values = yaml.safe_load((ROOT / "hub" / "z2jh-values.yaml").read_text())
    single = values["singleuser"]
    assert single["image"]["name"] and single["image"]["tag"]
    assert single["cpu"]["guarantee"] >= 1, "less than a core per learner blurs the timelines"
    assert single["cpu"]["limit"] >= single["cpu"]["guarantee"]
    assert single["defaultUrl"] == "/lab"
    # each learner's copy: nbgitpuller's command at each start, into the home the server opens in
    command = single["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[:2] == ["sh", "-c"] and "gitpuller " in command[2]
    assert "/home/jovyan/concurrency-course" in command[2].split()
    assert values["cull"]["timeout"] >= 3600, "a break must not stop the learners' servers"
    assert values["hub"]["config"]["KubeSpawner"]["working_dir"] == "/home/jovyan"
    # never the test's authenticator
    assert "dummy" not in values["hub"]["config"]["JupyterHub"]["authenticator_class"].lower()


def test_z2jh_post_start_pull_cannot_stop_the_server(tmp_path):
    """Kubernetes kills the container when a postStart hook fails: the values' hook must exit 0
    when gitpuller fails or hangs, and say why in the learner's ~/.gitpuller.log."""
    import yaml

    values = yaml.safe_load((ROOT / "hub" / "z2jh-values.yaml").read_text())
    script = values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"][2]
    home = tmp_path / "home"
    (home / "concurrency-course").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gitpuller = bin_dir / "gitpuller"
    gitpuller.write_text("#!/bin/sh\necho 'fatal: unable to access the repository' >&2\nexit 1\n")
    gitpuller.chmod(0o755)
    result = subprocess.run(
        ["sh", "-c", script.replace("/home/jovyan", str(home))],
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result
    log = (home / ".gitpuller.log").read_text()
    assert "unable to access" in log and "was not updated" in log


def test_image_recipe_for_a_hub_keeps_the_course_outside_the_home(tmp_path):
    """On Zero to JupyterHub a volume is mounted on /home/jovyan: the course installed there
    by postBuild (pip install -e .) would vanish under it. hub/README.md builds the image with
    --target-repo-dir outside the home: repo2docker accepts it, copies the course to REPO_DIR
    (a build argument it sets from that option) and runs postBuild there."""
    try:
        import repo2docker  # noqa: F401
    except ImportError:
        missing("jupyter-repo2docker is not installed: it is in the [test] extra")
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug",
         "--target-repo-dir", "/srv/concurrency-course", str(ROOT)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    dockerfile = result.stdout
    assert "ARG REPO_DIR=${HOME}" in dockerfile  # the default, replaced by --target-repo-dir
    assert "COPY --chown=0:0 src/ ${REPO_DIR}/" in dockerfile
    assert "WORKDIR ${REPO_DIR}" in dockerfile
    assert dockerfile.index("WORKDIR ${REPO_DIR}") < dockerfile.index("RUN ./binder/postBuild")
    readme = (ROOT / "hub" / "README.md").read_text()
    assert "--target-repo-dir /srv/concurrency-course" in readme


def test_cpu_share_runs_04s_threads_under_a_quota(tmp_path):
    """hub/cpu_share.py, which measured the README's table: a quarter of a core's quota holds
    the run to at most a quarter of a core (it can only slow it down)."""
    sys.path.insert(0, str(ROOT / "hub"))
    import cpu_share

    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        missing("making a cgroup needs root (CI runs as root)")
    if os.environ.get("COURSE_SID_ROOT") == "1":
        # Not a missing precondition: the 3.14/3.15 root mounts no /sys by design (nothing in
        # it may touch the machine's cgroups); CI's `make test` runs this test on the machine.
        pytest.skip("inside tools/sid_root.sh's root, which has no /sys: run by `make test`")
    try:
        cpu_share._cgroup_parent()
    except SystemExit as exc:
        missing(str(exc))
    r = cpu_share.measure(0.25, 0.05, tmp_path / "quarter.png", timeout=120)
    assert (tmp_path / "quarter.png").stat().st_size > 10_000
    assert r["cpu_ms"] > 50, r  # the two threads did their work
    assert r["wall_ms"] >= 2 * r["cpu_ms"], f"a quarter of a core's quota did not hold: {r}"
    # What the learner is told: the quota read from the cgroup the child really ran in.
    print(f"the learner saw: quota {r['quota_seen']}, at once {r['at_once_seen']}; "
          f"title line: {r['title_line']}")
    assert r["quota_seen"] == 0.25 and r["at_once_seen"] == 0.25, r
    assert "a CPU quota of 0.25 cores" in r["title_line"], r
    assert not list(Path(cpu_share._cgroup_parent()[0]).glob(f"course-cpu-share-{os.getpid()}-*"))


# --- the classroom: a hub, a proxy, three learners at the same time ---


def _chp() -> str:
    for candidate in (os.environ.get("COURSE_HUB_CHP"), str(NPM_CHP),
                      shutil.which("configurable-http-proxy")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    _missing(
        "configurable-http-proxy not found: npm install --prefix build/hub-npm "
        "configurable-http-proxy@5.2.0 (or set COURSE_HUB_CHP)"
    )


def _course_repo(where: Path) -> str:
    """A git repository of the course as it is in this working tree (uncommitted notebooks too;
    COURSE_NOTEBOOK_DIR, as for test_browser, to try others), for nbgitpuller to clone offline:
    returns its file:// URL."""
    repo = where / COURSE
    repo.mkdir(parents=True)
    shutil.copytree(NOTEBOOK_DIR, repo / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    git = ["git", "-c", "user.name=course test", "-c", "user.email=test@localhost",
           "-c", "init.defaultBranch=main", "-C", str(repo)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the course"]):
        subprocess.run(git + args, check=True, timeout=60, capture_output=True)
    return repo.as_uri()


def _marked(mark: str) -> list[int]:
    """Processes whose environment carries this run's mark: the hub, proxy, servers, kernels."""
    found = []
    needle = f"COURSE_HUB_RUN={mark}".encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if needle in f.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def hub(tmp_path):
    """JupyterHub with the course's config on loopback; yields (base_url, state_dir, repo_url)."""
    try:
        import jupyterhub  # noqa: F401
        import nbgitpuller  # noqa: F401
    except ImportError as exc:
        _missing(f"{exc.name} is not installed: pip install -e '.[test]'")
    if not os.path.isdir("/proc"):
        pytest.skip("the classroom test finds its processes in /proc (Linux)")
    chp = _chp()
    state = tmp_path / "hub"
    state.mkdir()
    repo_url = _course_repo(tmp_path / "origin")
    # The test's additions to the course config: JupyterLab exposes its app to the page (the
    # browser test's way of running cells), and every process started carries this run's mark.
    mark = f"{os.getpid()}-{time.monotonic_ns()}"
    overlay = tmp_path / "jupyterhub_test_config.py"
    overlay.write_text(
        f"c = get_config()  # noqa\n"
        f"load_subconfig({str(CONFIG)!r})  # noqa\n"
        f"c.Spawner.args = list(c.Spawner.args or []) + "
        f"['--LabApp.expose_app_in_browser=True']\n"
        f"c.Spawner.environment = dict(c.Spawner.environment, COURSE_HUB_RUN={mark!r})\n"
    )
    port = _free_port()
    env = dict(
        os.environ,
        COURSE_HUB_STATE=str(state),
        COURSE_HUB_PORT=str(port),
        COURSE_HUB_API_PORT=str(_free_port()),
        COURSE_HUB_PROXY_API_PORT=str(_free_port()),
        COURSE_HUB_CHP=chp,
        COURSE_HUB_RUN=mark,
        PYTHONUNBUFFERED="1",
    )
    # The settings the browser test uses, in each learner's home (no news, every cell in the DOM).
    for name in LEARNERS:
        for key, value in LAB_SETTINGS.items():
            path = state / "homes" / name / ".jupyter" / "lab" / "user-settings" / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
    log_path = tmp_path / "jupyterhub.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(overlay)],
        cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    failed = False
    try:
        deadline = time.monotonic() + HUB_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with {proc.returncode}")
            try:  # through the proxy: both are up
                with urllib.request.urlopen(f"{base}/hub/api/", timeout=10) as resp:
                    json.load(resp)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterHub did not start in time") from None
                time.sleep(0.5)
        yield base, state, repo_url
    except BaseException:
        failed = True
        raise
    finally:
        left = _stop_hub(proc, mark)
        log.close()
        if failed or left:
            sys.stderr.write(log_path.read_text(errors="replace")[-8000:])
        assert not left, f"the hub left processes behind (killed now): {left}"


def _stop_hub(proc: subprocess.Popen, mark: str) -> list[str]:
    """Stop the hub as an admin would (SIGTERM: it stops the servers, their kernels and the
    proxy); then kill whatever of this run is still alive. Returns what had to be killed."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    deadline = time.monotonic() + 10  # processes asked to stop may take a moment
    while (left := _marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    described = []
    for pid in left:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            described.append(f"{pid}: {cmdline[:150]}")
        except OSError:
            pass
    _kill(left)
    return described


# Runs in the page: the text each code cell printed (stdout), to report what 04 measured.
OUTPUT_TEXT_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return Array.from(panel.content.model.cells).filter(c => c.type === 'code').map(c => {
    const texts = [];
    for (let j = 0; j < c.outputs.length; j++) {
      const o = c.outputs.get(j).toJSON();
      if (o.output_type === 'stream' && o.name === 'stdout') texts.push([].concat(o.text).join(''));
    }
    return texts.join('');
  });
}"""


def _run_notebook(page, url: str, shot: Path) -> tuple[float, list[str], list[str]]:
    """Open a notebook in a fresh workspace, run all cells as test_browser does, screenshot.
    Returns (seconds to run, problems found, each code cell's printed text)."""
    page.goto(url, wait_until="load")
    page.wait_for_function(READY_JS)
    page.evaluate(
        """async () => { const p = window.jupyterapp.shell.currentWidget;
                         await p.context.ready; await p.sessionContext.ready;
                         await p.revealed; window.jupyterapp.shell.collapseLeft(); }"""
    )
    started = time.monotonic()
    page.evaluate(RUN_ALL_JS)
    state = _wait_for_run(page, started + float(os.environ.get("COURSE_NOTEBOOK_TIMEOUT", 600)))
    seconds = time.monotonic() - started
    page.wait_for_timeout(1000)  # let widgets and images finish rendering
    problems = state["errors"] + page.evaluate(DOM_PROBLEMS_JS)
    if state["executed"] != state["code"]:
        problems.append(f"only {state['executed']} of {state['code']} code cells ran")
    texts = page.evaluate(OUTPUT_TEXT_JS)
    _screenshot(page, shot)
    return seconds, problems, texts


def _learner(name: str, base: str, link: str, start: threading.Barrier, result: dict) -> None:
    """One learner's visit, in its own thread with its own Playwright and Chromium."""
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(PAGE_TIMEOUT)
                start.wait(timeout=120)  # the three click the link at the same moment
                t0 = time.monotonic()
                page.goto(link, wait_until="load")
                page.fill("#username_input", name)
                page.fill("#password_input", "any password: DummyAuthenticator")
                page.click("#login_submit")
                # spawn, nbgitpuller's clone, then JupyterLab on the notebook the link names
                landing = f"**/user/{name}/lab/tree/{COURSE}/notebooks/{NOTEBOOKS[0]}"
                page.wait_for_url(landing, timeout=LOGIN_TIMEOUT * 1000)
                result["login_s"] = time.monotonic() - t0
                for notebook in NOTEBOOKS:
                    stem = notebook.split("_")[0]
                    url = (f"{base}/user/{name}/lab/workspaces/hub-{stem}/tree/{COURSE}/"
                           f"notebooks/{notebook}?reset")
                    shot = SCREENSHOTS / f"hub-{name}-{stem}.png"
                    seconds, problems, texts = _run_notebook(page, url, shot)
                    result[notebook] = {"seconds": seconds, "problems": problems, "texts": texts}
                result["total_s"] = time.monotonic() - t0
            finally:
                browser.close()
    except BaseException as exc:  # pytest.fail raises a BaseException: hand it to the test
        result["error"] = f"{type(exc).__name__}: {exc}"


def _picture_numbers(texts: list[str]) -> str:
    """From 04's stats table (threads A and B): where their time went, and the median slice."""
    for text in texts:
        lines = text.splitlines()
        head = next((i for i, line in enumerate(lines) if line.startswith("lane ")), None)
        if head is None or "thread A" not in text:
            continue
        columns = re.split(r"\s{2,}", lines[head].strip())
        rows = [re.split(r"\s{2,}", line.strip()) for line in lines[head + 1:]
                if line.startswith("thread ")]
        wanted = ("running ms", "inferred run", "wait GIL", "wait core", "median slice")
        try:
            get = {c: [float(r[columns.index(c)]) if c in columns else 0.0 for r in rows]
                   for c in wanted}
        except (ValueError, IndexError):
            return "(stats table not read)"
        total = sum(sum(get[c]) for c in wanted[:4]) or 1.0
        return ", ".join(
            [f"{label} {sum(get[c]):.0f} ms ({sum(get[c]) / total:.0%})" for c, label in zip(
                wanted[:4], ("running (seen)", "running (inferred, hatched)",
                             "waiting for the GIL", "waiting for a core"))]
            + ["median slices " + " / ".join(f"{x:.1f}" for x in get["median slice"]) + " ms"]
        )
    return "(no stats table found)"


@pytest.mark.hub
@pytest.mark.timeout(CLASS_TIMEOUT + HUB_START_TIMEOUT + STOP_TIMEOUT + 120)
def test_three_learners_run_00_and_04_on_one_hub_at_once(hub):
    base, state, repo_url = hub
    if not os.path.exists(CHROMIUM):
        _missing(f"{CHROMIUM} not found: apt-get install chromium")
    pytest.importorskip("playwright", reason="the playwright package is in the [test] extra")
    link = nbgitpuller_link.link(base, repo_url, "main", f"notebooks/{NOTEBOOKS[0]}")
    start = threading.Barrier(len(LEARNERS))
    results = {name: {} for name in LEARNERS}
    threads = [threading.Thread(target=_learner, args=(n, base, link, start, results[n]),
                                name=f"learner {n}", daemon=True) for n in LEARNERS]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    deadline = time.monotonic() + CLASS_TIMEOUT
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic()))
    wall = time.monotonic() - t0

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    report = [f"three learners at once on {os.cpu_count()} cores: {wall:.0f} s "
              f"(load average at the end: {load})"]
    problems = []
    for name, r in results.items():
        if any(t.is_alive() for t in threads if t.name == f"learner {name}"):
            problems.append(f"{name}: still running after {CLASS_TIMEOUT} s")
        if "error" in r:
            problems.append(f"{name}: {r['error']}")
        line = f"{name}: logged in, server started, course cloned in {r.get('login_s', 0):.0f} s"
        for notebook in NOTEBOOKS:
            if notebook in r:
                line += f"; {notebook} ran in {r[notebook]['seconds']:.0f} s"
                problems += [f"{name} {notebook}: {p}" for p in r[notebook]["problems"]]
        report.append(line)
        if NOTEBOOKS[1] in r:
            numbers = _picture_numbers(r[NOTEBOOKS[1]]["texts"])
            report.append(f"    04's recorded run, threads A+B: {numbers}")
        # each learner has a copy of their own, cloned by nbgitpuller into their home
        copy = state / "homes" / name / COURSE / "notebooks" / NOTEBOOKS[1]
        if not copy.exists():
            problems.append(f"{name}: no copy of the course in their home ({copy})")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "hub-report.txt").write_text("\n".join(report) + "\n")
    print("\n" + "\n".join(report))
    assert not problems, "\n".join(problems)
