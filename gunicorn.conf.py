"""gunicorn settings: `gunicorn segmentservice.wsgi -c gunicorn.conf.py`.

Every value can be overridden on the command line or through the environment.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the service is CPU- and database-bound, requests are short.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# The access log: stdout unless GUNICORN_ACCESS_LOG names a file, or "off".
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
accesslog = None if accesslog.lower() in ("", "off", "none", "false") else accesslog
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")

# gunicorn refuses requests over these limits itself, with its own HTML page, before Django
# runs (the README lists those answers). The request line gets gunicorn's largest bounded
# value (its default is 4094 bytes), so a `q` of several KB in the query string reaches the
# app; 0 would lift the bound altogether and let a client make a worker buffer any length.
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", "8190"))
limit_request_fields = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELDS", "100"))
limit_request_field_size = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", "8190"))

# --- Logging and metrics ----------------------------------------------------------------------
# gunicorn's own lines (its error log, and the access log, one line per request) are JSON
# objects like the service's, with the request id the response carries:
#   {"time": "...", "level": "INFO", "logger": "gunicorn.access",
#    "message": "GET /healthz 200", "remote_addr": "127.0.0.1", "method": "GET",
#    "path": "/healthz", "status": 200, "duration_ms": 2.4, "response_bytes": 36,
#    "user_agent": "curl/8.5.0", "request_id": "9a0c..."}
import shutil  # noqa: E402
import tempfile  # noqa: E402

from gunicorn.glogging import Logger  # noqa: E402


def _json_formatter():
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        ["levelname", "name", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


class JsonLogger(Logger):
    """gunicorn's logger with JSON lines; the access line has named fields."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(_json_formatter())

    def access(self, resp, req, environ, request_time):
        if not self.cfg.accesslog:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = {name.lower(): value for name, value in resp.headers}
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO")
        self.access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "remote_addr": environ.get("REMOTE_ADDR"),
                "method": method,
                "path": path,
                "status": int(status),
                "duration_ms": round(request_time.total_seconds() * 1000, 3),
                "response_bytes": getattr(resp, "sent", None),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "request_id": headers.get("x-request-id"),
            },
        )


logger_class = JsonLogger

# prometheus-client adds up the workers' metrics from files in PROMETHEUS_MULTIPROC_DIR.
# Unless the environment names a directory, each gunicorn master makes its own temporary
# one and removes it on exit; a named directory is emptied at start (one per master).
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="segment-service-metrics-")

# Imported once the directory is named (prometheus-client reads it on import), and here
# rather than in child_exit: the master runs that in its SIGCHLD handler, which runs again
# when a second worker exits meanwhile, and would then meet the package half imported.
from prometheus_client import multiprocess  # noqa: E402


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
