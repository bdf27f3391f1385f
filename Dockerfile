# The registry's image: web (gunicorn), worker (celery worker) and beat (celery beat) run from it with
# different commands; see docker-compose.yml and docs/operations.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8000 \
    FRONT=0

# libssl3 gives the resumable sha256 (OpenSSL's SHA256_*) uploads keep between requests; git fetches build
# contexts; buildah builds multi-arch images on workers (daemonless; the worker container needs the privileges
# buildah asks for, or run builds on dedicated build hosts instead).
ARG WITH_BUILDAH=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 ca-certificates git tini \
    && if [ "$WITH_BUILDAH" = "1" ]; then apt-get install -y --no-install-recommends buildah fuse-overlayfs; fi \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN rm -rf .venv var \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin registry \
    && mkdir -p /data && chown registry:registry /data

USER registry
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=4)"
ENTRYPOINT ["tini", "--"]
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
