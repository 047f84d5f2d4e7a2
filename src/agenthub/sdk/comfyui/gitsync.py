"""Plugins, workflows and ComfyUI itself: a `git` checkout of a repository at an exact commit."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


class GitError(Exception):
    code = "GIT_FAILED"


async def _git(*args: str, cwd: Path | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"GIT_TERMINAL_PROMPT": "0", "PATH": _path()},
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])}: {err.decode(errors='replace').strip()[:500]}")
    return out.decode().strip()


def _path() -> str:
    return os.environ.get("PATH", "/usr/bin:/bin")


async def head(dest: Path) -> str | None:
    if not (dest / ".git").exists():
        return None
    try:
        return await _git("rev-parse", "HEAD", cwd=dest)
    except GitError:
        return None


async def checkout(repo: str, commit: str, dest: Path) -> bool:
    """Makes `dest` a checkout of `repo` at `commit`; False when it already was."""
    current = await head(dest)
    if current is not None and current.startswith(commit.lower()):
        return False
    if current is None:
        # init + fetch rather than clone: ComfyUI's own directory may already hold models and plugins.
        await asyncio.to_thread(dest.mkdir, parents=True, exist_ok=True)
        await _git("init", "--quiet", cwd=dest)
        await _git("remote", "add", "origin", repo, cwd=dest)
    else:
        await _git("remote", "set-url", "origin", repo, cwd=dest)
    if not await _has_commit(dest, commit):
        await _git("fetch", "--quiet", "origin", cwd=dest)
    if not await _has_commit(dest, commit):
        await _git("fetch", "--quiet", "origin", commit, cwd=dest)  # a commit no branch points at
    await _git("checkout", "--quiet", "--force", "--detach", commit, cwd=dest)
    return True


async def _has_commit(dest: Path, commit: str) -> bool:
    try:
        await _git("cat-file", "-e", f"{commit}^{{commit}}", cwd=dest)
    except GitError:
        return False
    return True
