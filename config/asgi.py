"""ASGI entry point: HTTP through Django, websockets through the realtime hub at ``/ws/``.

HTTP runs Django's request handler in one hop to its sync thread (``config.http``): every
view and middleware here is synchronous, and Django's ASGI handler would hop between the
event loop and that thread several times per request.
"""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_handler = get_wsgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from config.http import DjangoHTTP  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from portal.realtime.auth import OriginValidator, TokenOrSessionAuthMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": DjangoHTTP(django_handler, threads=settings.HTTP_THREADS),
        "websocket": OriginValidator(
            TokenOrSessionAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Load every view now, then take everything loaded so far out of the cyclic garbage
# collector's sight: it lives as long as the process, and each full collection would walk
# it again (a pause of tens of milliseconds in the middle of some request).
get_resolver().url_patterns  # noqa: B018 - imports the views
gc.freeze()
