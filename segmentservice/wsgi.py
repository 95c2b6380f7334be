"""WSGI entry point: `gunicorn segmentservice.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segmentservice.settings")

application = get_wsgi_application()
