"""Optional OpenTelemetry tracing of the API, switched on by the standard ``OTEL_*`` environment variables.

On when ``OTEL_TRACES_EXPORTER`` names an exporter other than ``none``, or ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set, unless ``OTEL_SDK_DISABLED=true``. Then each request is a span
(the ASGI instrumentation), each GraphQL operation and resolver a child span (strawberry's extension), each SQL
statement on PostgreSQL one more (the asyncpg instrumentation); the SDK reads the rest of its configuration
(service name, sampler, exporter endpoint and headers) from the same variables. Off, nothing of OpenTelemetry
is imported. Install the packages with ``pip install 'outboundql[tracing]'``.

These are the standard variables of OpenTelemetry, not settings of outboundql: they are read here, once, at start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the ``OTEL_*`` variables ask for traces."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER")
    if exporter is not None:
        return exporter.strip().lower() not in ("", "none")
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def schema_extensions() -> list[Any]:
    """The GraphQL schema's tracing extension, when tracing is on."""
    if not enabled():
        return []
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return [OpenTelemetryExtension]


def traced(app: ASGIApp) -> ASGIApp:
    """``app`` with a span per request and per SQL statement when tracing is on; ``app`` itself otherwise."""
    if not enabled():
        return app
    _install_provider()
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    try:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    except ImportError:  # the database spans are optional
        pass
    else:
        AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]  # untyped in the library
    return OpenTelemetryMiddleware(app, excluded_urls="healthz,readyz,metrics")


def _install_provider() -> None:
    """A tracer provider exporting as ``OTEL_TRACES_EXPORTER`` says (``otlp`` by default; ``console`` for a look)."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "outboundql"}
    provider = TracerProvider(resource=Resource.create(attributes))
    exporters = [e.strip().lower() for e in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if e.strip()]
    for exporter in exporters:
        if exporter == "console":
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        elif exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
