# syntax=docker/dockerfile:1
# The Customer Segment Service: gunicorn (default) or the webhook delivery worker.
#   docker build -t customer-segment-service .
#   docker run ... customer-segment-service            # web, on port 8000
#   docker run ... customer-segment-service worker     # manage.py deliver_events
#   docker run ... customer-segment-service manage migrate
# compose.yaml beside this file runs it with PostgreSQL and Redis.

# --- build: the runtime requirements (hash-checked) and the collected static files ---------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --require-hashes -r /tmp/requirements.txt
WORKDIR /app
COPY . .
# A throw-away secret: collectstatic only reads the settings.
RUN SECRET_KEY=collectstatic-only-not-a-secret /opt/venv/bin/python manage.py collectstatic --no-input -v 0

# --- run: the virtual environment, the code and the static files, as an unprivileged user --
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GUNICORN_BIND=0.0.0.0:8000
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["web"]
