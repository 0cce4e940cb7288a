"""Deployment files stay true: compose validates, every setting is documented."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _settings_env_names() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|list|url|secret|float)\(\s*"([A-Z0-9_]+)"', source))


def test_every_setting_is_listed_in_env_example():
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    missing = sorted(_settings_env_names() - documented)
    assert not missing, f".env.example lacks: {', '.join(missing)}"


def test_settings_read_a_reasonable_number_of_variables():
    # Guards the regex above: if it stopped matching, the previous test would pass vacuously.
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DIRECTUS_URL"} <= _settings_env_names()


def test_compose_file_validates():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    result = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "--services"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {"postgres", "dragonfly", "directus", "web", "worker"} <= services
