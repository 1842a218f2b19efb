"""Settings for crimemap, read from environment variables with safe development defaults."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from caching.static import add_headers as static_headers

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def read_secret(path: Path) -> str:
    """A secret kept in a file (a Docker secret, or var/secret-key), or "" when there is none."""
    try:
        return path.read_text().strip()
    except OSError:
        return ""


DEBUG = env_bool("DEBUG", False)
# The key signs sessions, password resets and CSRF tokens: from SECRET_KEY, else from
# SECRET_KEY_FILE (default var/secret-key, which `make setup` generates once for local runs and
# tests). Without either the site refuses to start; only DEBUG runs on a throwaway key.
SECRET_KEY_FILE = Path(os.environ.get("SECRET_KEY_FILE", str(BASE_DIR / "var" / "secret-key")))
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or read_secret(SECRET_KEY_FILE)
if not SECRET_KEY and DEBUG:
    SECRET_KEY = get_random_secret_key()
if not SECRET_KEY:
    raise ImproperlyConfigured(
        f"SECRET_KEY is not set: give it in the environment or in the file {SECRET_KEY_FILE} "
        "(SECRET_KEY_FILE); `make setup` makes one for local use"
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Proxies in front of the site that append to X-Forwarded-For (nginx on the same machine: 1).
# With 0 the header is ignored: a client can write it itself (hardening/clients.py).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Project-local services started by `make run` / `make test` (see Makefile) unless overridden.
DATABASE_URL = os.environ.get("DATABASE_URL", "postgis://crimemap@127.0.0.1:55432/crimemap")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:56379/0")

CRIMEMAP_DATA_DIR = Path(
    os.environ.get("CRIMEMAP_DATA_DIR", str(BASE_DIR.parent / "shared" / "data" / "london"))
).resolve()

# Map background tiles: none by default, so no request leaves the machine.
TILE_URL = os.environ.get("TILE_URL", "")
TILE_ATTRIBUTION = os.environ.get("TILE_ATTRIBUTION", "")

# Disclosure control (crimestats/disclosure.py is the only reader of these).
DISCLOSURE_THRESHOLD = int(os.environ.get("DISCLOSURE_THRESHOLD", "5"))
DISCLOSURE_LEVELS = env_list("DISCLOSURE_LEVELS", "ward,lsoa")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "leaflet",
    "cachalot",
    "areas",
    "crimestats",
    "caching",
    "csp",
    "axes",
]

MIDDLEWARE = [
    "hardening.health.HealthCheckMiddleware",  # /healthz: before the host check and any cache
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Public pages whole from Redis, before sessions or CSRF can touch them (caching/).
    "caching.middleware.PageCacheMiddleware",
    # Inside the page cache, so a stored page keeps the policies its view gave it (the embed's).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "caching.degradation.DatabaseDownMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Malformed input refused before any view or query; its 400 still gets every header above.
    "hardening.input.InputGuardMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "crimemap.urls"
WSGI_APPLICATION = "crimemap.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Health checks drop a connection PostgreSQL closed (a restart) before a request uses it.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-redis, so that Redis being down is a cache miss (pages rendered from the database),
# never an error: reads answer None, writes are dropped, after at most a short timeout.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "crimemap"),
        "TIMEOUT": 3600,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
CACHALOT_TIMEOUT = 3600
# Area views run without cachalot (crimestats.views.direct_reads); 1 puts it back, to measure.
AREA_VIEWS_CACHALOT = os.environ.get("AREA_VIEWS_CACHALOT", "0") == "1"

# The page cache (caching/): browsers keep a page a minute, shared caches (nginx) 10 s before
# asking again with its ETag; a stale copy may be served while it is refreshed.
PAGE_CACHE_MAX_AGE = int(os.environ.get("PAGE_CACHE_MAX_AGE", "60"))
PAGE_CACHE_S_MAXAGE = int(os.environ.get("PAGE_CACHE_S_MAXAGE", "10"))
PAGE_CACHE_STALE_WHILE_REVALIDATE = int(os.environ.get("PAGE_CACHE_STALE", "60"))
PAGE_CACHE_TIMEOUT = 31 * 24 * 3600  # a publication lasts about a month
PAGE_CACHE_POINTER_SECONDS = float(os.environ.get("PAGE_CACHE_POINTER_SECONDS", "1"))
# The front proxy's directory (make run: var/nginx). When set, the pre-warm job empties nginx's
# cache at each switch (caching/proxy.py) and nginx keeps a page PAGE_CACHE_PROXY_SECONDS at
# most (a bound in case it is never emptied); unset, nginx keeps pages s-maxage.
FRONT_PROXY_DIR = os.environ.get("FRONT_PROXY_DIR", "")
PAGE_CACHE_PROXY_SECONDS = int(os.environ.get("PAGE_CACHE_PROXY_SECONDS", "3600"))
# The pre-warm job (manage.py prewarm) asks the front proxy at PREWARM_URL when set, so that
# nginx's cache is warmed too; otherwise it renders in-process. PREWARM_HOST: the public host.
PREWARM_URL = os.environ.get("PREWARM_URL", "")
PREWARM_HOST = os.environ.get("PREWARM_HOST", "")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# A file added since the last collectstatic keeps its plain name rather than failing the page.
WHITENOISE_MANIFEST_STRICT = False
WHITENOISE_ADD_HEADERS_FUNCTION = static_headers
# /favicon.ico and /robots.txt, which clients ask for at the root (nginx serves them itself):
# without them every new visitor's browser cost a rendered 404.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
# Uploaded files (kept with the releases they made; `make backup` saves them with the database).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Open-data downloads, written once per publication (caching/opendata_files.py); behind nginx
# (OPEN_DATA_ACCEL=1) Django only checks the request and nginx sends the file.
OPEN_DATA_ROOT = Path(os.environ.get("OPEN_DATA_ROOT", str(BASE_DIR / "var" / "opendata")))
OPEN_DATA_ACCEL = env_bool("OPEN_DATA_ACCEL", False)

# Leaflet: no default tiles, no remote assets (django-leaflet ships Leaflet in its static files).
LEAFLET_CONFIG = {
    "TILES": [("Map", TILE_URL, {"attribution": TILE_ATTRIBUTION})] if TILE_URL else [],
    "DEFAULT_CENTER": (51.5, -0.12),
    "DEFAULT_ZOOM": 10,
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy on every page (django-csp): everything from this site only, no inline
# script or style (data for scripts goes through json_script), never framed; map tiles, when
# configured, from their host. The embed alone may be framed (crimestats/views.py).
TILE_HOST = urlsplit(TILE_URL.replace("{s}", "*"))  # {s}.tile.example: any subdomain
TILE_SOURCES = [f"{TILE_HOST.scheme}://{TILE_HOST.netloc}"] if TILE_URL else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, *TILE_SOURCES],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features no page uses are off; geolocation only on the pages offering "use my
# location" (hardening/policies.py).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
# Admin: its address is a setting (ADMIN_URL), and sign-in is throttled by django-axes: five
# failures for one username from one address lock that pair out for an hour.
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "hardening.logins.attempt_address"
AXES_USERNAME_CALLABLE = "hardening.logins.attempted_username"
AXES_LOCKOUT_TEMPLATE = "locked_out.html"
AXES_RESET_ON_SUCCESS = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# HTTPS=1 in production (behind nginx, which sets X-Forwarded-Proto and overwrites a client's):
# redirect to HTTPS, secure cookies, HSTS. Off for local runs over plain HTTP.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = HTTPS and env_bool("HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Debian 12's GDAL 3.6 cannot block file/network access from spatial references (GDAL ≥ 3.9 can).
# Boundary files are read only by staff importers, and the machine has no outside network.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
