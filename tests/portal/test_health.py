"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
import subprocess
import threading
import time
from datetime import timedelta

import pytest
from channels.layers import channel_layers
from django.core.cache import caches
from django.test import override_settings
from django.utils import timezone

from portal.jobs import task
from portal.models import Job

pytestmark = pytest.mark.django_db


@task(name="tests.health.noop")
def noop() -> None:
    return None


@pytest.fixture(autouse=True)
def _patient_checks(settings):
    # The test machine can be heavily loaded; refused connections still fail at once.
    settings.READINESS_CHECK_TIMEOUT = 10
    # Directus is checked only when configured; the tests that want it set it.
    settings.DIRECTUS_URL = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- /healthz --------------------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- /readyz ---------------------------------------------------------------------------


def test_readyz_reports_every_component_ok(client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "channel_layer"}
    for check in body["checks"].values():
        assert check["ok"] is True and check["ms"] >= 0


def test_readyz_fails_with_the_broken_cache_named(client):
    broken_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    with override_settings(CACHES=broken_cache):
        response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failing"] == ["cache"]
    assert body["checks"]["cache"]["ok"] is False
    assert "ConnectionError" in body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["ok"] is True


class _Pong(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path == "/server/ping"
        self.send_response(200 if ok else 404)
        self.end_headers()
        self.wfile.write(b"pong" if ok else b"")

    def log_message(self, *args) -> None:
        return None


@contextlib.contextmanager
def fake_directus():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pong)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_readyz_checks_directus_when_configured(client, settings):
    with fake_directus() as url:
        settings.DIRECTUS_URL = url
        body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["checks"]["directus"]["ok"] is True


def test_directus_down_degrades_but_stays_ready(client, settings):
    settings.DIRECTUS_URL = f"http://127.0.0.1:{free_port()}"

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["directus"]["ok"] is False
    assert "failing" not in body


@pytest.fixture
def own_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("redis-server did not start")
    try:
        yield proc, f"redis://127.0.0.1:{port}/0"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


def test_readiness_reports_a_stopped_redis(client, own_redis):
    proc, url = own_redis
    redis_settings = {
        "CACHES": {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        },
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [url], "prefix": "readyz-test"},
            }
        },
    }
    try:
        with override_settings(**redis_settings):
            channel_layers.backends.clear()
            caches["default"].close()

            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.content
            assert ready.json()["status"] == "ok"

            proc.kill()
            proc.wait(5)

            down = client.get("/readyz")
            assert down.status_code == 503
            body = down.json()
            assert body["status"] == "fail"
            assert body["failing"] == ["cache", "channel_layer"]
            assert body["checks"]["cache"]["ok"] is False
            assert body["checks"]["channel_layer"]["ok"] is False
            assert body["checks"]["database"]["ok"] is True
    finally:
        channel_layers.backends.clear()
        caches["default"].close()


# --- /metrics --------------------------------------------------------------------------


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = "m" * 40
    return settings.METRICS_TOKEN


def test_metrics_for_stewards_include_requests_and_job_queue_depth(client, steward):
    noop.enqueue(_run_after=timezone.now() - timedelta(minutes=2))
    noop.enqueue()
    Job.objects.create(name="x", status=Job.Status.FAILED)
    client.get("/healthz")
    client.force_login(steward)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'agora_job_queue_depth{status="queued"} 2.0' in text
    assert 'agora_job_queue_depth{status="running"} 0.0' in text
    assert 'agora_job_queue_depth{status="failed"} 1.0' in text
    oldest = next(
        line for line in text.splitlines() if line.startswith("agora_job_oldest_due_seconds ")
    )
    assert 119 < float(oldest.split()[1]) < 600
    assert "agora_job_queue_scrape_ok 1.0" in text
    assert 'agora_http_requests_total{method="GET",route="healthz",status="200"}' in text
    assert "agora_http_request_duration_seconds_bucket" in text
    assert "agora_websocket_connections" in text


def test_metrics_accept_the_metrics_token(client, metrics_token):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert response.status_code == 200
    assert "agora_job_queue_depth" in response.content.decode()


@pytest.mark.parametrize("header", ["Bearer wrong-token", "Basic Zm9vOmJhcg==", "Bearer "])
def test_metrics_refuse_a_wrong_token(client, metrics_token, header):
    response = client.get("/metrics", headers={"Authorization": header})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_metrics_refuse_any_bearer_token_when_none_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


def test_metrics_refuse_anonymous_visitors(client):
    assert client.get("/metrics").status_code == 401


@pytest.mark.parametrize("role", ["member", "maintainer"])
def test_metrics_refuse_non_stewards(client, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/metrics").status_code == 403
