"""Settings driven by the environment.

Development (the default) keeps its own secrets under the data directory so that one command brings the system
up; production (``FANGFAN_ENV=production``) refuses to start without every secret given explicitly.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
ENV = os.environ.get("FANGFAN_ENV", "development").strip().lower()
PRODUCTION = ENV == "production"
# Under pytest: tasks run immediately and test databases get per-process names (several runs may share a machine).
TESTING = os.environ.get("FANGFAN_TESTING") == "1" or "pytest" in sys.modules

DATA_DIR = Path(os.environ.get("FANGFAN_DATA_DIR") or (Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = DATA_DIR / "files"
# Exported lists and import error lists hold personal data: ``fangfan purge-files`` (cron) deletes them after this
# many days (README, "Scheduled work").
FILE_RETENTION_DAYS = int(os.environ.get("FANGFAN_FILE_RETENTION_DAYS", "30"))


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"生产环境（FANGFAN_ENV=production）必须设置环境变量 {name}；请在启动前配置它。"
        )
    return value


def _json_setting(name: str, value: str):
    try:
        return json.loads(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"环境变量 {name} 不是有效的 JSON / {name} is not valid JSON"
            '（应为 {"k1": "<64 位十六进制>"} / expected {"k1": "<64 hex digits>"}）'
        ) from None


def _dev_secrets() -> dict:
    """Secrets a development or demo instance generates once and keeps in its data directory."""
    path = DATA_DIR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "secret_key": secrets.token_urlsafe(50),
        "field_keys": {"k1": secrets.token_hex(32)},
        "blind_index_key": secrets.token_hex(32),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


if PRODUCTION and os.environ.get("FANGFAN_TEST_PAUSE"):
    raise ImproperlyConfigured(
        "生产环境不得设置 FANGFAN_TEST_PAUSE（仅供中止测试使用） / FANGFAN_TEST_PAUSE is for the kill tests only"
    )
if PRODUCTION:
    SECRET_KEY = _required("FANGFAN_SECRET_KEY")
    FIELD_ENCRYPTION_KEYS = _json_setting("FANGFAN_FIELD_KEYS", _required("FANGFAN_FIELD_KEYS"))
    BLIND_INDEX_KEY = _required("FANGFAN_BLIND_INDEX_KEY")
    ALLOWED_HOSTS = [h.strip() for h in _required("FANGFAN_ALLOWED_HOSTS").split(",") if h.strip()]
else:
    _s = _dev_secrets()
    SECRET_KEY = os.environ.get("FANGFAN_SECRET_KEY") or _s["secret_key"]
    FIELD_ENCRYPTION_KEYS = (
        json.loads(os.environ["FANGFAN_FIELD_KEYS"])
        if os.environ.get("FANGFAN_FIELD_KEYS")
        else _s["field_keys"]
    )
    BLIND_INDEX_KEY = os.environ.get("FANGFAN_BLIND_INDEX_KEY") or _s["blind_index_key"]
    ALLOWED_HOSTS = [
        h.strip()
        for h in os.environ.get("FANGFAN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
        if h.strip()
    ]
# --- the audit chain's key and anchor (security issue 16.9) -------------------------------------------------
# Every audit event's hash is an HMAC under this key, which never reaches the database; the chain's head is
# anchored in a file of the data directory (core.anchor). Required in production; development generates one.
if PRODUCTION:
    AUDIT_KEY = _required("FANGFAN_AUDIT_KEY")
else:
    AUDIT_KEY = os.environ.get("FANGFAN_AUDIT_KEY") or _s.get("audit_key") or ""
    if not AUDIT_KEY:  # a data directory made before the chain was keyed: add its key to secrets.json
        _s["audit_key"] = AUDIT_KEY = secrets.token_hex(32)
        (DATA_DIR / "secrets.json").write_text(json.dumps(_s, indent=2))
        (DATA_DIR / "secrets.json").chmod(0o600)
AUDIT_ANCHOR_FILE = Path(os.environ.get("FANGFAN_AUDIT_ANCHOR_FILE") or (DATA_DIR / "audit-anchor.log"))

# The newest key encrypts; older ones still decrypt (rotation).
FIELD_ENCRYPTION_ACTIVE_KEY = os.environ.get("FANGFAN_FIELD_ACTIVE_KEY") or sorted(FIELD_ENCRYPTION_KEYS)[-1]
FIELD_ENCRYPTION_ALGORITHM = os.environ.get("FANGFAN_FIELD_ALGORITHM", "aesgcm")

DEBUG = os.environ.get("FANGFAN_DEBUG") == "1" and not PRODUCTION

# A read of a place's data without the user's jurisdiction raises (core/scoping.py: for_user or unscoped()): on
# by default, in production and tests alike; FANGFAN_SCOPE_GUARD=0 turns it off for an emergency only.
SCOPE_GUARD = os.environ.get("FANGFAN_SCOPE_GUARD", "1") != "0"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "fangfan.core",  # before django_tasks_db: its ``db_worker`` command (core's) fails a killed worker's jobs first
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks_db",
    "fangfan.regions",
    "fangfan.accounts",
    "fangfan.policy",
    "fangfan.registry",
    "fangfan.monitoring",
    "fangfan.assistance",
    "fangfan.workflows",
    "fangfan.reports",
    "fangfan.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fangfan.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "fangfan.accounts.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
    "fangfan.accounts.middleware.SecondFactorMiddleware",
    "fangfan.accounts.middleware.PasswordChangeRequiredMiddleware",
    "fangfan.core.middleware.DeclaredPermissionMiddleware",
]

ROOT_URLCONF = "fangfan.urls"
WSGI_APPLICATION = "fangfan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangfan.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- database --------------------------------------------------------------------------------------------
_db_url = os.environ.get("DATABASE_URL", "").strip()
if _db_url:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "fangfan.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL + NORMAL: per-row writes ~8x cheaper (DESIGN.md, measured); IMMEDIATE avoids lock upgrades.
            # Temporary storage in files (SQLite still keeps a small one in its cache): in memory, CREATE INDEX
            # sorts in one thread and a bulk import's index builds took 2.7× longer (registry.bulkdb).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=10000; PRAGMA cache_size=-65536; PRAGMA temp_store=FILE;",
            "transaction_mode": "IMMEDIATE",
        }
    )
elif TESTING:
    DATABASES["default"]["TEST"] = {"NAME": f"test_fangfan_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and login security --------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "fangfan.accounts.passwords.ComplexityValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "fangfan.accounts.backends.RegionModelBackend",
    # Sessions signed in before the backend above existed name this one; they keep working until they end.
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("FANGFAN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Per account *and* address: failures from one address lock that account from that address only, so nobody can
# lock a colleague out at will from elsewhere. Password spraying (many accounts from one address) is throttled per
# address by ``accounts.services.LOGIN_FAILURES_PER_ADDRESS``.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "fangfan.core.client_ip"
# Failures are cleared when the whole sign-in succeeds — the password alone for most, the password and the second
# factor for those who have one (accounts.second_factor) — so that a known password does not buy new guesses at
# the code.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# The second factor (accounts.second_factor): TOTP codes of 6 digits every 30 s; the lock-out is axes' (above), so
# django-otp's own growing delays after a wrong code are off.
OTP_TOTP_ISSUER = "防返贫监测帮扶"
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# Idle timeout: a session ends after SESSION_IDLE_MINUTES without a request (accounts.middleware
# .IdleSessionMiddleware, which tells the person why); whatever the activity, it ends SESSION_MAX_HOURS after the
# sign-in (the session's absolute lifetime, also its expiry in the session store).
SESSION_IDLE_MINUTES = int(
    os.environ.get("FANGFAN_SESSION_IDLE_MINUTES") or os.environ.get("FANGFAN_IDLE_MINUTES") or "30"
)
SESSION_MAX_HOURS = int(os.environ.get("FANGFAN_SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "fangfan.core.views.csrf_failure"  # a Chinese page saying what to do
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    # No 'unsafe-inline': no style attribute, no <style> block (tests/core/test_csp.py); ECharts sets its styles
    # through the CSSOM, which CSP allows.
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- i18n ---------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

# --- static and files -------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = not PRODUCTION
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- background work --------------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": (
            "django.tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# --- logging: never names, ID numbers or phones -------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"forbidden_one_line": {"()": "fangfan.core.logfilters.ForbiddenOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        # A 403 is one line (path and missing action), not a traceback.
        "django.request": {"filters": ["forbidden_one_line"]},
        # The audit chain's head after each commit (event id and hash only): a copy outside the database.
        # In production the service's log (journald under systemd) keeps it; in development it would only clutter
        # every command's output.
        "fangfan.audit.anchor": {
            "level": os.environ.get("FANGFAN_AUDIT_ANCHOR_LOG_LEVEL", "INFO" if PRODUCTION else "WARNING")
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("FANGFAN_LOG_LEVEL", "WARNING")},
}

# --- security: client addresses, HTTPS, production checks ----------------------------------------------------
# Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated); everyone else's is ignored
# (``fangfan.core.client_ip``).
FANGFAN_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("FANGFAN_TRUSTED_PROXIES", "").split(",") if p.strip()
]
# "X-Forwarded-Proto: https": the header (and value) by which the trusted proxy says the request came over HTTPS.
# Unset, no header is believed (a client could send it itself).
_proxy_ssl = os.environ.get("FANGFAN_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl:
    _header, _sep, _value = _proxy_ssl.replace("=", ":", 1).partition(":")
    if not _sep or not _header.strip() or not _value.strip():
        raise ImproperlyConfigured(
            "FANGFAN_PROXY_SSL_HEADER 应形如 “X-Forwarded-Proto: https” / should look like "
            "'X-Forwarded-Proto: https'"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip())
if PRODUCTION:
    from fangfan.core.secrets_check import check_production_settings

    check_production_settings(
        secret_key=SECRET_KEY,
        field_keys=FIELD_ENCRYPTION_KEYS,
        blind_index_key=BLIND_INDEX_KEY,
        allowed_hosts=ALLOWED_HOSTS,
    )
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("FANGFAN_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("FANGFAN_HSTS_SUBDOMAINS", "1") == "1"
    SECURE_HSTS_PRELOAD = os.environ.get("FANGFAN_HSTS_PRELOAD", "1") == "1"

# --- limits on uploaded files and jobs (security issue 16; core.filelimits) -------------------------------
# A county's household workbook: 250 000 households × 20 columns and 850 000 members × 19 columns ≈ 22 million
# cells, ≈ 800 MB uncompressed (docs/benchmarks.md). Every reader refuses a file beyond these before allocating.
FILE_MAX_ROWS = int(os.environ.get("FANGFAN_FILE_MAX_ROWS", "1100000"))
FILE_MAX_COLUMNS = int(os.environ.get("FANGFAN_FILE_MAX_COLUMNS", "200"))
FILE_MAX_CELLS = int(os.environ.get("FANGFAN_FILE_MAX_CELLS", "32000000"))
FILE_MAX_SHEETS = int(os.environ.get("FANGFAN_FILE_MAX_SHEETS", "50"))
FILE_MAX_UNZIPPED_BYTES = int(os.environ.get("FANGFAN_FILE_MAX_UNZIPPED_MB", "2048")) * 1024 * 1024
FILE_MAX_BYTES = int(os.environ.get("FANGFAN_FILE_MAX_MB", "600")) * 1024 * 1024  # a county's CSV pair
# A department batch (web, API, CLI): one month of a county's 医保 settlements is ≈ 50 000 rows, ≈ 8 MB.
DEPARTMENT_MAX_BYTES = int(os.environ.get("FANGFAN_DEPARTMENT_MAX_MB", "20")) * 1024 * 1024
DEPARTMENT_MAX_ROWS = int(os.environ.get("FANGFAN_DEPARTMENT_MAX_ROWS", "300000"))
# A job still "running" this long after it started, or whose worker process is gone, is marked failed.
JOB_STALE_HOURS = int(os.environ.get("FANGFAN_JOB_STALE_HOURS", "12"))
