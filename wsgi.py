"""WSGI entry point: ``gunicorn wsgi:app``."""
from sel_time import create_app

app = create_app()
