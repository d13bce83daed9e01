"""Print the nbgitpuller link that puts the course into a learner's home on a JupyterHub.

    python tools/nbgitpuller_link.py --hub https://hub.example.edu
    python tools/nbgitpuller_link.py --hub https://hub.example.edu \
        --notebook notebooks/04_the_gil.ipynb
    python tools/nbgitpuller_link.py --hub https://hub.example.edu --repo https://github.com/you/fork

A learner who opens the link logs in to the hub; nbgitpuller (installed on the hub) clones the
repository into their home the first time, merges in the instructor's new commits on later
visits without overwriting the learner's own changes, and opens the notebook in JupyterLab.

The repository's URL comes from one setting (the one the Binder badge uses), first found of:
--repo; course.toml's `repository` (top level or under [course]); pyproject.toml's
[project.urls] "Repository". The branch: --branch, else course.toml's `branch`, else "main".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

try:
    import tomllib
except ImportError:  # Python 3.10: pip vendors the same parser
    try:
        import tomli as tomllib
    except ImportError:
        from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOK = "notebooks/00_start_here.ipynb"
PLACEHOLDERS = ("OWNER/REPO", "<", ">")


class LinkError(ValueError):
    """A setting is missing or wrong: the message says what to do."""


def _toml(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LinkError(f"{path} is not valid TOML: {exc}") from None


def course_settings(root: Path = ROOT) -> dict:
    """{"repository": ..., "branch": ...} from course.toml or pyproject.toml (missing: left out)."""
    course = _toml(root / "course.toml")
    course = {**course, **course.get("course", {})}
    found = {k: course[k] for k in ("repository", "branch") if isinstance(course.get(k), str)}
    if "repository" not in found:
        urls = _toml(root / "pyproject.toml").get("project", {}).get("urls", {})
        repo = next((v for k, v in urls.items() if k.lower() == "repository"), None)
        if repo:
            found["repository"] = repo
    return found


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not (parts.netloc or parts.scheme == "file"):
        raise LinkError(f"{name} must be a full URL ({' or '.join(schemes)}://...), got {url!r}")
    if any(p in url for p in PLACEHOLDERS):
        raise LinkError(f"{name} {url!r} still holds a placeholder: put the real URL in")
    return url.rstrip("/")


def link(
    hub: str,
    repo: str,
    branch: str = "main",
    notebook: str = DEFAULT_NOTEBOOK,
    targetpath: str | None = None,
) -> str:
    """The nbgitpuller link for `hub` that clones `repo` (at `branch`) and opens `notebook`.

    >>> link("https://hub.example.edu", "https://github.com/carpentry/concurrency-course")
    'https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Fcarpentry%2Fconcurrency-course&branch=main&targetpath=concurrency-course&urlpath=lab%2Ftree%2Fconcurrency-course%2Fnotebooks%2F00_start_here.ipynb'
    """
    hub = _check_url("the hub URL", hub, ("https", "http"))
    repo = _check_url("the repository URL", repo, ("https", "http", "file"))
    if not branch or any(ch.isspace() for ch in branch):
        raise LinkError(f"the branch must be a branch name, got {branch!r}")
    notebook = notebook.strip("/")
    if not notebook.endswith(".ipynb") or ".." in notebook.split("/"):
        raise LinkError(
            f"the notebook must be a path to an .ipynb inside the repository, got {notebook!r}"
        )
    # The folder the course is cloned into, in the learner's home: the repository's name.
    name = repo.rsplit("/", 1)[-1]
    targetpath = targetpath or (name[: -len(".git")] if name.endswith(".git") else name)
    query = {
        "repo": repo,
        "branch": branch,
        "targetpath": targetpath,
        "urlpath": f"lab/tree/{quote(targetpath)}/{quote(notebook)}",
    }
    return f"{hub}/hub/user-redirect/git-pull?{urlencode(query)}"


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(
        description="Print the nbgitpuller link that puts the course into a learner's home.",
    )
    parser.add_argument("--hub", required=True, help="the hub's URL, e.g. https://hub.example.edu")
    parser.add_argument("--repo", help="the course repository's URL (default: course.toml's "
                        "repository, else pyproject.toml's [project.urls] Repository)")
    parser.add_argument("--branch", help="the branch to clone (default: course.toml's, or main)")
    parser.add_argument("--notebook", default=DEFAULT_NOTEBOOK,
                        help=f"the notebook to open (default {DEFAULT_NOTEBOOK})")
    args = parser.parse_args(argv)
    settings = course_settings(root)
    repo = args.repo or settings.get("repository")
    if not repo:
        parser.error("no repository URL: pass --repo URL, or set `repository = \"URL\"` in "
                     "course.toml (or Repository under pyproject.toml's [project.urls])")
    try:
        print(link(args.hub, repo, args.branch or settings.get("branch", "main"), args.notebook))
    except LinkError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
