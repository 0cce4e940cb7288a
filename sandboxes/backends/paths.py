"""Workspace-relative paths: the one place that decides whether a path is acceptable."""

from __future__ import annotations

import posixpath

from sandboxes.backends.base import FileRefused

MAX_PATH_LENGTH = 1024


def workspace_relpath(path: str) -> str:
    """Normalise a user-supplied path to one relative to the workspace, or refuse it.

    Absolute paths are taken as relative to the workspace ("/a" is "a"); any ".." that
    would climb out, NUL bytes and over-long paths are refused.
    """
    if "\x00" in path or len(path) > MAX_PATH_LENGTH:
        raise FileRefused("invalid path")
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise FileRefused("path traversal is not allowed")
        parts.append(part)
    return posixpath.join(*parts) if parts else ""
