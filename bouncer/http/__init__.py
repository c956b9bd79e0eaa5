"""The HTTP API of `bouncer serve` (aiohttp, JSON under /v1), its health checks and Prometheus
metrics: a face over the store, like the CLI.

`app` builds the application (middlewares: errors, then bearer-token auth) from a `Backend`
the daemon hands it (reader threads, the processor's write call, the clock, health); one module
per group of routes (`suppressions`, `records`, `events`, `probes`), `params` turns query
strings and bodies into typed values (msgspec) with errors that name the field, `openapi`
holds the OpenAPI 3.1 document, `metrics` the daemon's Prometheus registry. Nothing here is
imported by the daemon's SMTP path or by the CLI except `bouncer serve`.
"""
