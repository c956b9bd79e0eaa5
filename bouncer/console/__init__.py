"""The operator's console: HTML pages for the bounce log, one report, the suppression list and
an overview of failures, served by the daemon beside the API under /console/.

`attach(app, config, backend)` mounts it on the API's aiohttp application (a sub-application,
so the API's routes and its OpenAPI document are untouched) and sends `/` to it. Pages are
rendered on the server with Jinja2 (autoescaped: what reports say is shown as text), styled by
one stylesheet and use no JavaScript, so the Content-Security-Policy forbids scripts outright.
"""

from bouncer.console.app import PREFIX, attach

__all__ = ["PREFIX", "attach"]
