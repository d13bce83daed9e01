"""JupyterHub for the course on ONE machine, on loopback: the hub tests/test_hub.py runs.

    .venv/bin/jupyterhub -f hub/jupyterhub_config.py      # then open http://127.0.0.1:8000

!! NOT FOR A REAL CLASS AS IT IS. Anyone who reaches it logs in with any name and any password
!! (DummyAuthenticator), and every learner's server runs as the same system user as the hub
!! (SimpleLocalProcessSpawner: no isolation between learners). Both are for testing on one
!! machine that nobody else can reach: it listens on 127.0.0.1 only.
!! A real class needs a real authenticator (your school's OAuth/LTI/LDAP, GitHub, or at least
!! system accounts: PAM) and a spawner that separates learners: The Littlest JupyterHub
!! (one machine) or Zero to JupyterHub (Kubernetes). hub/README.md says how.

What it does, which a real hub does too:
- each learner gets their own home (here STATE/homes/NAME) and, through the nbgitpuller link
  (tools/nbgitpuller_link.py), their own copy of the course in it;
- the learners' servers run JupyterLab from this Python environment (the course installed in
  it), with the course's kernel, and open /lab by default.

Settings from the environment (all optional):
    COURSE_HUB_STATE     folder for the hub's database, cookie secret and learners' homes
                         (default build/hub next to this folder)
    COURSE_HUB_PORT      the port learners open (default 8000); the hub's API and the proxy's
                         API take COURSE_HUB_API_PORT (8081) and COURSE_HUB_PROXY_API_PORT (8001)
    COURSE_HUB_CHP       the configurable-http-proxy command (default: build/hub-npm's, which
                         `npm install --prefix build/hub-npm configurable-http-proxy@5.2.0`
                         makes, else the one on PATH)
"""

import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub provides get_config when it loads this file)

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("COURSE_HUB_STATE", ROOT / "build" / "hub")).resolve()
STATE.mkdir(parents=True, exist_ok=True)
LOOPBACK = "127.0.0.1"

# --- Loopback only: the proxy (what browsers reach), the hub's API, the learners' servers. ---
c.JupyterHub.bind_url = f"http://{LOOPBACK}:{int(os.environ.get('COURSE_HUB_PORT', 8000))}/"
c.JupyterHub.hub_ip = LOOPBACK
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT", 8081))
c.ConfigurableHTTPProxy.api_url = (
    f"http://{LOOPBACK}:{int(os.environ.get('COURSE_HUB_PROXY_API_PORT', 8001))}"
)
c.Spawner.ip = LOOPBACK

_npm_chp = ROOT / "build" / "hub-npm" / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [
    os.environ.get("COURSE_HUB_CHP")
    or (str(_npm_chp) if _npm_chp.exists() else shutil.which("configurable-http-proxy"))
    or "configurable-http-proxy"
]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# When the hub stops, it stops the learners' servers (and they their kernels) and the proxy.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# --- TESTING ONLY: any name, any password. A real class needs a real authenticator. ---
c.JupyterHub.authenticator_class = "jupyterhub.auth.DummyAuthenticator"

# --- TESTING ONLY: learners' servers run as the hub's user, each in a home of their own. ---
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "homes" / "{username}")
c.Spawner.notebook_dir = "~"  # the learner's home: nbgitpuller puts the course in it
c.Spawner.default_url = "/lab"
# This environment's JupyterLab and kernel (the course's packages are installed in it).
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.environment = {"JUPYTER_PREFER_ENV_PATH": "1"}
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]  # the hub runs as root (as in CI): so do the servers
# A busy machine with a class starting at once: bounded, but generous.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
# A local process spawner cannot enforce c.Spawner.cpu_guarantee / cpu_limit: every learner
# shares all the machine's cores (see hub/README.md, "CPU per learner"). The
# Zero to JupyterHub snippet (hub/z2jh-values.yaml) sets them.
