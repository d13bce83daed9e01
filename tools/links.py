"""The course's links, from one setting: pyproject.toml's [project.urls] Repository.

    python tools/links.py            # print the Binder link (and badge) for that repository
    python tools/links.py --write    # put the badge into README.md (make links does it)

Publish your copy on GitHub, set Repository to its address (for example
https://github.com/yourname/concurrency-course), then run `make links`: the
README's Binder badge opens JupyterLab on notebooks/00_start_here.ipynb of
your copy. tools/nbgitpuller_link.py reads the same setting for JupyterHub.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
START = "notebooks/00_start_here.ipynb"
BADGE = re.compile(r"^\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\(.*\)$", re.M)


def repository() -> str:
    """The repository's address, e.g. https://github.com/OWNER/REPO."""
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("urls", {})
    if "Repository" not in urls:
        raise SystemExit("set [project.urls] Repository in pyproject.toml to your copy's address")
    return urls["Repository"].rstrip("/")


def github_path(url: str) -> str:
    """'https://github.com/owner/repo(.git)' -> 'owner/repo'."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?", url)
    if not match:
        raise ValueError(f"{url!r} is not a GitHub repository address "
                         "(https://github.com/OWNER/REPO), as Binder needs")  # fmt: skip
    return f"{match.group(1)}/{match.group(2)}"


def binder_url(url: str, branch: str = "HEAD") -> str:
    return f"https://mybinder.org/v2/gh/{github_path(url)}/{branch}?urlpath=lab/tree/{START}"


def badge(url: str) -> str:
    return f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder_url(url)})"


def main(argv: list[str]) -> int:
    url = repository()
    if argv == ["--write"]:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        if not BADGE.search(text):
            raise SystemExit("README.md has no Binder badge line to replace")
        readme.write_text(BADGE.sub(lambda _: badge(url), text, count=1), encoding="utf-8")
        print(f"README.md: Binder badge for {github_path(url)}")
    elif argv:
        print(__doc__)
        return 2
    print(binder_url(url))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
