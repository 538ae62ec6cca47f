"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application

from fangfan.core.privatefiles import restrict_umask

restrict_umask()  # the database, uploads, exports: readable by this account only (security issue 16.14)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangfan.settings")
application = get_wsgi_application()
