"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""

import sys

from tuition.app import create_app
from tuition.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as exc:
    # One line saying what to set, instead of a traceback. Exit status 3 is what gunicorn
    # takes as "the application cannot start": it stops instead of restarting workers.
    print(f"tuition: {exc}", file=sys.stderr)
    sys.exit(3)
