"""Code identity: which commit of which repository a step ran, and whether the tree was clean."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from .run_log import CodeIdentity

_CREDENTIALS = re.compile(r"(?<=://)[^/@]+@")


def _clean_url(url: str) -> str:
    """Remote URLs may carry credentials (https://user:token@host/...): never record them."""
    return _CREDENTIALS.sub("", url)


def _may_be_in_repository(project_dir: Path) -> bool:
    """False only when no git repository can hold ``project_dir`` (no ``.git`` in it or above, none named by
    GIT_DIR) and git is installed (else importing GitPython says so): most images a pod runs in have no
    repository, and GitPython then need not be imported (a tenth of a pod's start-up)."""
    if os.environ.get("GIT_DIR") or not shutil.which(os.environ.get("GIT_PYTHON_GIT_EXECUTABLE") or "git"):
        return True
    for folder in (project_dir, *project_dir.parents):
        if (folder / ".git").exists() or ((folder / "HEAD").is_file() and (folder / "objects").is_dir()):
            return True
    return False


def code_identity(project_dir: Path) -> CodeIdentity:
    outside = CodeIdentity(code_identifier_type="git",
                           code_identifier_message=f"{project_dir} is not inside a git repository")
    if not _may_be_in_repository(project_dir.resolve()):
        return outside
    try:
        import git
    except ImportError as exc:  # the git executable is missing
        return CodeIdentity(code_identifier_type="git", code_identifier_message=f"git is not available: {exc}")
    try:
        repo = git.Repo(project_dir, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return outside
    try:
        commit = repo.head.commit.hexsha
    except ValueError:
        return CodeIdentity(code_identifier_type="git", code_identifier_message="the git repository has no commit yet")
    try:
        dirty = repo.is_dirty(untracked_files=False)
        changed = [d.a_path for d in repo.index.diff(None)][:20] if dirty else []
    except git.GitCommandError as exc:
        return CodeIdentity(code_identifier=commit, code_identifier_message=f"cannot tell if the tree is clean: {exc}")
    url = ""
    try:
        remote = repo.remotes.origin if "origin" in repo.remotes else (repo.remotes[0] if repo.remotes else None)
        if remote is not None:
            url = _clean_url(next(remote.urls, ""))
    except Exception:
        url = ""
    message = f"uncommitted changes in: {', '.join(changed)}" if dirty else ""
    return CodeIdentity(code_identifier=commit, code_identifier_type="git", code_identifier_dependable=not dirty,
                        code_identifier_url=url, code_identifier_message=message)
