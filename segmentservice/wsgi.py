"""WSGI entry point: `gunicorn segmentservice.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segmentservice.settings")

django_application = get_wsgi_application()

# Imported once Django is set up: the middleware builds the API's error body.
from segmentservice.api.middleware import ChunkedBodyMiddleware  # noqa: E402

application = ChunkedBodyMiddleware(django_application)
