# syntax=docker/dockerfile:1
# srekit's server image: `docker build -t srekit:0.1.0 .` (docs/deploy.md).
#
# The build stage downloads every distribution pinned in requirements.lock, each checked against
# its hash, builds srekit's wheel, and installs srekit into /opt/srekit from those files alone
# (--no-index): the image holds exactly the lock's versions of srekit's runtime dependencies and
# none of the lock's development tools. The runtime stage copies that virtualenv.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements.lock ./
RUN pip download --require-hashes --no-deps --dest /wheels -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/srekit \
 && /opt/srekit/bin/pip install --no-index --find-links /wheels /wheels/srekit-*.whl \
 && /opt/srekit/bin/pip check

FROM python:3.11-slim-bookworm
# The shared libraries the runtime dependencies load: Pango for WeasyPrint (the report as PDF),
# libcairo2 for CairoSVG (capacity plots as PNG), and a font to set the text in. The same as
# `make system-deps` installs on a developer's machine.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libcairo2 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
# A fixed UID and GID, so a Kubernetes securityContext (runAsUser, fsGroup) can name them.
RUN groupadd --system --gid 10001 srekit \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/srekit --no-create-home \
      --shell /usr/sbin/nologin srekit \
 && mkdir -p /var/lib/srekit \
 && chown 10001:10001 /var/lib/srekit \
 && chmod 0700 /var/lib/srekit
COPY --from=build /opt/srekit /opt/srekit
ENV PATH=/opt/srekit/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/srekit \
    SREKIT_HOME=/var/lib/srekit
VOLUME ["/var/lib/srekit"]
WORKDIR /var/lib/srekit
USER 10001:10001
EXPOSE 8000
# The image has no curl: Python asks /healthz (urlopen fails, and so the check, on anything but 2xx).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["srekit"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
