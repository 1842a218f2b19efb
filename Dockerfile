# crimemap web image: Debian with GDAL/GEOS/PROJ, Python packages from uv.lock, run as non-root.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH DJANGO_SETTINGS_MODULE=crimemap.settings

RUN apt-get update \
    && apt-get install -y --no-install-recommends gdal-bin libgdal32 libgeos-c1v5 libproj25 \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv \
    && useradd --create-home --uid 1000 crimemap

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0 \
    && chown -R crimemap /app/var

USER crimemap
EXPOSE 8000
CMD ["gunicorn", "crimemap.wsgi:application", "--config", "deploy/gunicorn.conf.py"]
