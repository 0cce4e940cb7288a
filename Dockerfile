# The portal image: web (ASGI) and worker share it; the command picks the role.
FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH AGORA_VAR_DIR=/var/lib/agora
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm bubblewrap util-linux \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv==0.13.8
WORKDIR /app

FROM base AS deps
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM base AS app
COPY --from=deps /opt/venv /opt/venv
COPY --from=deps /app/node_modules /app/node_modules
COPY . .
RUN node config/bin/build_assets.mjs \
 && DEBUG=1 python manage.py collectstatic --noinput -v 0 \
 && useradd --system --home /var/lib/agora agora && mkdir -p /var/lib/agora && chown agora /var/lib/agora
USER agora
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["python", "-m", "config.serve", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--forwarded-allow-ips", "*"]
