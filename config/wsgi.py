"""WSGI entry point (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()


def _client_address_from_front(app):
    """Behind the stack's front proxy (config/front.py) gunicorn listens on a private unix socket, and the
    front sets X-Forwarded-For to the client's address (replacing any the client sent): use it."""

    def wrapped(environ, start_response):
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            environ["REMOTE_ADDR"] = forwarded.split(",")[-1].strip()
        return app(environ, start_response)

    return wrapped


if os.environ.get("WEB_BEHIND_FRONT") == "1":
    application = _client_address_from_front(application)
