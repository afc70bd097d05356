"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Production settings are the default: without a strong ``SECRET_KEY`` in the environment the app
refuses to load, and gunicorn stops with that sentence rather than serving.
"""
import sys

from sel_time import create_app
from sel_time.core.startup import ConfigurationError, describe

try:
    app = create_app()
except ConfigurationError as error:
    print(describe(error), file=sys.stderr, flush=True)
    raise
