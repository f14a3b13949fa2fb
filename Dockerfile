# syntax=docker/dockerfile:1
# The Smart Village application: one image for every `village` subcommand (ingest, api, simulate, devices).
# docker-compose.yml builds it; the first stage installs the project into a virtualenv, the second copies only
# that virtualenv onto a clean slim base and runs it as an unprivileged user.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/village
WORKDIR /src
# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && /opt/village/bin/pip install -r requirements.txt
COPY devices devices
COPY ingest ingest
COPY api api
COPY simulators simulators
COPY dashboards dashboards
COPY village village
RUN /opt/village/bin/pip install --no-deps . && /opt/village/bin/village --help > /dev/null

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="smart-village" \
      org.opencontainers.image.description="Smart Village sensor pipeline: village ingest | api | simulate | devices" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 village \
    && useradd --system --uid 10001 --gid village --home-dir /data --no-create-home --shell /usr/sbin/nologin village \
    && install -d -o village -g village -m 0750 /data
COPY --from=build /opt/village /opt/village
ENV PATH=/opt/village/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VILLAGE_DATA_DIR=/data
# /data holds the ingestor's spool and rejected store (a volume in docker-compose.yml); no .env is read here.
WORKDIR /data
USER village:village
ENTRYPOINT ["village"]
CMD ["--help"]
