"""Code identity: which commit of which repository a step ran, and whether the tree was clean."""

from __future__ import annotations

import re
from pathlib import Path

from .run_log import CodeIdentity

_CREDENTIALS = re.compile(r"(?<=://)[^/@]+@")


def _clean_url(url: str) -> str:
    """Remote URLs may carry credentials (https://user:token@host/...): never record them."""
    return _CREDENTIALS.sub("", url)


def code_identity(project_dir: Path) -> CodeIdentity:
    try:
        import git
    except ImportError as exc:  # the git executable is missing
        return CodeIdentity(code_identifier_type="git", code_identifier_message=f"git is not available: {exc}")
    try:
        repo = git.Repo(project_dir, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return CodeIdentity(code_identifier_type="git",
                            code_identifier_message=f"{project_dir} is not inside a git repository")
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
