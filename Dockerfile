# syntax=docker/dockerfile:1
# leadsync: build a wheel in one stage, install it into a clean virtual environment in a second,
# and run the daemon as an unprivileged user in a slim final image with no build tools.

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/leadsync \
    && /opt/leadsync/bin/pip install --no-cache-dir --upgrade pip
COPY pyproject.toml README.md ./
COPY scoring ./scoring
COPY config ./config
COPY connectors ./connectors
COPY sync ./sync
COPY revops ./revops
COPY cli ./cli
COPY sandbox ./sandbox
RUN /opt/leadsync/bin/pip install --no-cache-dir .

FROM python:3.11-slim AS runtime
# A SQLite state database (state_url: sqlite:////data/leadsync.db) lives under /data, owned by the
# unprivileged user; nothing in the image is writable by it besides /data and its home.
RUN groupadd --system --gid 10001 leadsync \
    && useradd --system --uid 10001 --gid leadsync --home-dir /home/leadsync --create-home leadsync \
    && mkdir -p /data /config \
    && chown leadsync:leadsync /data \
    && chmod 0700 /data
COPY --from=build /opt/leadsync /opt/leadsync
ENV PATH="/opt/leadsync/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LEADSYNC_DAEMON__HOST=0.0.0.0 \
    LEADSYNC_DAEMON__PORT=9464
# Listening on all interfaces is only right inside the container's own network namespace; the
# default outside a container stays 127.0.0.1.
USER leadsync:leadsync
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('LEADSYNC_DAEMON__PORT', '9464'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["leadsync"]
CMD ["run", "--config", "/config/leadsync.yaml"]
