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
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")

# gunicorn refuses requests over these limits itself, with its own HTML page, before Django
# runs (the README lists those answers). The request line gets gunicorn's largest bounded
# value (its default is 4094 bytes), so a `q` of several KB in the query string reaches the
# app; 0 would lift the bound altogether and let a client make a worker buffer any length.
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", "8190"))
limit_request_fields = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELDS", "100"))
limit_request_field_size = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", "8190"))
