"""Code identity from real git repositories."""

import subprocess

from runnable.gitid import code_identity


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def make_repo(path):
    git(path, "init", "-q")
    (path / "a.txt").write_text("one")
    git(path, "add", "a.txt")
    git(path, "commit", "-qm", "first")
    git(path, "remote", "add", "origin", "https://user:s3cr3t@example.com/team/project.git")
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True).stdout.strip()


def test_clean_repository(tmp_path):
    commit = make_repo(tmp_path)
    ident = code_identity(tmp_path)
    assert ident.code_identifier == commit and ident.code_identifier_dependable
    assert ident.code_identifier_url == "https://example.com/team/project.git"  # credentials never recorded


def test_dirty_repository_is_not_dependable(tmp_path):
    make_repo(tmp_path)
    (tmp_path / "a.txt").write_text("changed")
    ident = code_identity(tmp_path)
    assert not ident.code_identifier_dependable and "a.txt" in ident.code_identifier_message


def test_outside_a_repository(tmp_path):
    ident = code_identity(tmp_path)
    assert ident.code_identifier == "" and "not inside a git repository" in ident.code_identifier_message


def test_run_log_records_the_commit(tmp_path):
    from conftest import read_run_log, run_cli

    commit = make_repo(tmp_path)
    (tmp_path / "p.yaml").write_text("dag:\n  start_at: a\n  steps:\n    a: {type: stub, next: success}\n")
    result = run_cli(["execute", "-f", "p.yaml", "--run-id", "g"], tmp_path)
    assert result.returncode == 0, result.stderr
    ident = read_run_log(tmp_path, "g")["steps"]["a"]["code_identities"][0]
    assert ident["code_identifier"] == commit and ident["code_identifier_type"] == "git"
    assert ident["code_identifier_dependable"] is True  # untracked files (p.yaml, the run log) do not count


def test_outside_a_repository_without_git_installed_says_git_is_missing(tmp_path):
    """Only with git installed does a folder with no repository around it skip GitPython: without git, what
    importing GitPython says is recorded, as before."""
    import os
    import sys

    code = "import sys, pathlib; from runnable.gitid import code_identity; " \
           "print(code_identity(pathlib.Path(sys.argv[1])).code_identifier_message)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT")} | {"PATH": str(tmp_path / "no-bin")}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("git is not available: "), out.stdout
