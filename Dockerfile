# crimemap web image, in two stages. The build stage installs the Python packages of uv.lock with
# a pinned uv; the runtime stage holds only the shared libraries GeoDjango loads (GDAL, GEOS,
# PROJ), the virtual environment, the code and the static files collected at build, and runs as
# an unprivileged user. .dockerignore keeps var/ (database, uploads), .venv and .git out.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# Keep in step with UV_VERSION in deploy/local/system-packages.sh.
ARG UV_VERSION=0.13.9
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=crimemap.settings GUNICORN_BIND=0.0.0.0:8000
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgdal32 libgeos-c1v5 libproj25 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 crimemap
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY . .
# The key only lets settings load for collectstatic; the container is given its own.
RUN SECRET_KEY=collectstatic-only-never-served python manage.py collectstatic --noinput -v 0 \
    && mkdir -p var/media var/opendata \
    && chown -R crimemap:crimemap var

USER crimemap
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]
CMD ["gunicorn", "crimemap.wsgi:application", "--config", "deploy/gunicorn.conf.py"]
