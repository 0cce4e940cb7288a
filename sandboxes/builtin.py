"""The recipes and images Agora ships with (data for the migration and the image builder)."""

from __future__ import annotations

import shutil
from typing import Any

# Docker images built locally by `manage.py sandbox_images build` (debootstrap minbase).
IMAGES: dict[str, list[str]] = {
    "agora-sandbox/shell:1": ["procps", "less", "vim-tiny"],
    "agora-sandbox/python:1": ["python3", "procps"],
    "agora-sandbox/node:1": ["nodejs", "procps"],
}

BUILTIN_RECIPES: list[dict[str, Any]] = [
    {
        "slug": "shell",
        "name": "Shell",
        "description": "A Bash shell with the core utilities.",
        "language": "shell",
        "tags": ["bash", "shell"],
        "docker_image": "agora-sandbox/shell:1",
        "default_command": "",
        "setup_commands": [],
    },
    {
        "slug": "python",
        "name": "Python 3",
        "description": "Python 3 with the standard library; a workspace to try things in.",
        "language": "python",
        "tags": ["python"],
        "docker_image": "agora-sandbox/python:1",
        "default_command": "python3",
        "setup_commands": [],
    },
    {
        "slug": "node",
        "name": "Node.js",
        "description": "Node.js and npm's runtime, without network access.",
        "language": "node",
        "tags": ["javascript", "node"],
        "docker_image": "agora-sandbox/node:1",
        "default_command": "node",
        "setup_commands": [],
    },
]

RUST_RECIPE: dict[str, Any] = {
    "slug": "rust",
    "name": "Rust",
    "description": "The host's Rust toolchain (cargo, rustc), read-only, offline.",
    "language": "rust",
    "tags": ["rust", "cargo"],
    "docker_image": "",
    "default_command": "",
    "setup_commands": [],
}


def builtin_recipes() -> list[dict[str, Any]]:
    """The shipped recipes; Rust only where the host has a toolchain under /usr."""
    recipes = list(BUILTIN_RECIPES)
    cargo = shutil.which("cargo")
    if cargo and cargo.startswith("/usr/"):
        recipes.append(RUST_RECIPE)
    return recipes
