#!/bin/sh
# Starts one process of the service; the container's entrypoint, the systemd units' ExecStart,
# and what CI runs in a virtual environment. `python` comes from PATH (the image and the
# units put the virtual environment first).
#
#   entrypoint.sh web [GUNICORN ARGS]   migrate first if MIGRATE_ON_START=true, then gunicorn
#   entrypoint.sh worker [ARGS]         the webhook delivery worker (manage.py deliver_events)
#   entrypoint.sh manage COMMAND ...    any manage.py command, e.g. migrate or createsuperuser
#   entrypoint.sh COMMAND ...           anything else, as given
set -eu
cd "$(dirname "$0")/.."

command="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi

case "$command" in
  web)
    case "${MIGRATE_ON_START:-false}" in
      true|1|yes) python manage.py migrate --no-input ;;
      false|0|no|"") ;;
      *) echo "MIGRATE_ON_START must be true or false, not '$MIGRATE_ON_START'." >&2; exit 2 ;;
    esac
    # `python -m` rather than the gunicorn script: a virtual environment stays usable when its
    # directory is moved (the README's upgrade swaps directories).
    exec python -m gunicorn segmentservice.wsgi --config gunicorn.conf.py "$@"
    ;;
  worker)
    exec python manage.py deliver_events "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    exec "$command" "$@"
    ;;
esac
