"""`make clean` never deletes through a mount: tools/safe_rm.sh unmounts first, or refuses.

build/sid-root (tools/sid_root.sh) has /proc, /dev and /dev/shm bound into it while a Python
3.14/3.15 run is going on; if one were left there, `rm -rf build` would delete the machine's
devices. Here a folder stands in for /dev (never the real one: a bug in the code under test
must not be able to harm the machine), bound under a temporary build/sid-root/dev.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from checks import missing

SAFE_RM = Path(__file__).resolve().parents[1] / "tools" / "safe_rm.sh"


def _mounted(path: Path) -> bool:
    return subprocess.run(["mountpoint", "-q", str(path)]).returncode == 0


@pytest.fixture
def bound(tmp_path):
    """tmp/build/sid-root/dev with tmp/fake-dev bound onto it; unmounted at the end anyway."""
    if os.geteuid() != 0:
        missing("bind mounts need root (CI runs as root)")
    fake_dev = tmp_path / "fake-dev"
    fake_dev.mkdir()
    (fake_dev / "null").write_text("a device the clean-up must not delete\n")
    target = tmp_path / "build" / "sid-root" / "dev"
    target.mkdir(parents=True)
    (tmp_path / "build" / "sid-root" / "file").write_text("part of the root\n")
    if subprocess.run(["mount", "--bind", str(fake_dev), str(target)]).returncode != 0:
        missing("mount --bind is not allowed here")
    yield tmp_path, fake_dev, target
    if _mounted(target):
        subprocess.run(["umount", str(target)])


def test_unmounts_first_then_deletes(bound):
    tmp, fake_dev, target = bound
    assert (target / "null").exists(), "the bind mount shows the stand-in device"
    done = subprocess.run([str(SAFE_RM), str(tmp / "build")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not (tmp / "build").exists(), "the build folder is gone"
    assert (fake_dev / "null").read_text().startswith("a device"), "what was mounted is intact"
    assert Path("/dev/null").exists()


def test_refuses_while_a_mount_is_busy(bound):
    tmp, fake_dev, target = bound
    # A process whose working directory is inside the mount keeps it busy: umount fails.
    busy = subprocess.Popen(["sleep", "60"], cwd=target)
    try:
        time.sleep(0.1)
        done = subprocess.run([str(SAFE_RM), str(tmp / "build")], capture_output=True,
                              text=True)
        assert done.returncode != 0, "it must refuse"
        assert "refusing" in done.stderr and str(target) in done.stderr, done.stderr
        assert (tmp / "build" / "sid-root" / "file").exists(), "nothing was deleted"
        assert (fake_dev / "null").exists() and _mounted(target)
    finally:
        busy.kill()
        busy.wait()
    done = subprocess.run([str(SAFE_RM), str(tmp / "build")], capture_output=True, text=True)
    assert done.returncode == 0 and not (tmp / "build").exists(), done.stderr
    assert (fake_dev / "null").exists()


def test_a_symlink_to_the_mounts_is_followed_not_walked(bound, tmp_path):
    tmp, fake_dev, target = bound
    link = tmp_path / "link-to-build"
    link.symlink_to(tmp / "build")
    done = subprocess.run([str(SAFE_RM), str(link)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not link.exists() and not link.is_symlink()
    assert (fake_dev / "null").exists()


def _mini_root(root: Path) -> None:
    """A root with just sh, env and sleep (and their libraries), for tools/sid_root.sh run."""
    for d in ("proc", "dev", "etc", "tmp"):
        (root / d).mkdir(parents=True)
    (root / ".course-root-ok").write_text("a stand-in root for the test\n")
    for program in ("/bin/sh", "/usr/bin/env", "/bin/sleep"):
        found = subprocess.run(["ldd", program], capture_output=True, text=True).stdout
        libs = [w for w in found.split() if w.startswith("/")]
        for f in [program, *libs]:
            real = Path(os.path.realpath(f))
            for name in {Path(f), real}:
                dest = root / name.relative_to("/")
                dest.parent.mkdir(parents=True, exist_ok=True)
                if not dest.exists():
                    dest.write_bytes(real.read_bytes())
                    dest.chmod(0o755)


def _mounts_under(path: Path) -> list[str]:
    text = Path("/proc/self/mountinfo").read_text()
    return [line.split()[4] for line in text.splitlines()
            if line.split()[4].startswith(str(path) + "/")]


SID_ROOT = SAFE_RM.with_name("sid_root.sh")


@pytest.fixture
def mini_root(tmp_path):
    if os.geteuid() != 0:
        missing("chroot and mounts need root (CI runs as root)")
    root = tmp_path / "sid-root"
    _mini_root(root)
    yield root
    for m in sorted(_mounts_under(root), reverse=True):  # only if the code under test failed
        subprocess.run(["umount", "--lazy", m])


def test_the_root_is_unmounted_after_a_failing_command(mini_root):
    env = {**os.environ, "SID_ROOT": str(mini_root)}
    done = subprocess.run([str(SID_ROOT), "run", "sh", "-c", "test -e /dev/null && exit 3"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr  # it ran inside, with /dev there, and failed
    assert _mounts_under(mini_root) == []


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_the_root_is_unmounted_when_the_run_is_stopped(mini_root, signal_name):
    import signal

    env = {**os.environ, "SID_ROOT": str(mini_root)}
    run = subprocess.Popen([str(SID_ROOT), "run", "sleep", "300"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(_mounts_under(mini_root)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_mounts_under(mini_root)) == 3, "proc, dev and dev/shm were mounted"
        time.sleep(0.5)  # the copy of the course, then the command starts
        run.send_signal(getattr(signal, signal_name))
        run.wait(timeout=30)  # not 300 s: the sleep inside was ended too
    finally:
        run.kill()
        run.wait()
    assert run.returncode != 0
    assert _mounts_under(mini_root) == []
    assert Path("/dev/null").exists()
