"""Render the nginx gateway config from the topology — one renderer for both backends.

Locally the upstreams are ``127.0.0.1:<gateway_to_<svc> proxy port>`` and the paths live in
the state dir; in compose they are ``toxiproxy:<port>`` and the official image's paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from chaos.topology import GATEWAY, REPO_ROOT, Topology

GATEWAY_DIR = REPO_ROOT / "platform" / "gateway"
TEMPLATE_PATH = GATEWAY_DIR / "nginx.conf.template"
HEALTH_JS_PATH = GATEWAY_DIR / "health.js"

#: status -> (title, detail) of the problem+json bodies nginx itself generates.
ERROR_PAGES: dict[int, tuple[str, str]] = {
    400: ("Bad Request", "The gateway could not parse the request."),
    403: ("Forbidden", "This path is not served by the gateway."),
    404: ("Not Found", "No route matches this path."),
    405: ("Method Not Allowed", "The gateway does not allow this method here."),
    413: ("Content Too Large", "The request body is larger than the gateway accepts."),
    414: ("URI Too Long", "The request URI is longer than the gateway accepts."),
    429: ("Too Many Requests", "Rate limit exceeded; retry later."),
    500: ("Internal Server Error", "The gateway failed to handle the request."),
    # No answer from the service at all (refused, reset, gone): the caller sees the same
    # declared 503 the services give when their own dependency is down (sent as 503 below).
    502: ("Service Unavailable", "The upstream service is unreachable."),
    503: ("Service Unavailable", "The upstream service is unavailable."),
    504: ("Gateway Timeout", "The upstream service did not answer in time."),
    501: ("Not Implemented", "The gateway does not implement this request feature."),
    505: ("HTTP Version Not Supported", "The gateway speaks HTTP/1.0 and HTTP/1.1."),
    # nginx's own code for an over-long header line; answered as a 400 (see the template).
    494: ("Bad Request", "A request header or cookie is larger than the gateway accepts."),
}
#: nginx-internal codes sent to the client as another status.
SENT_AS = {494: 400, 502: 503}


@dataclass(frozen=True, slots=True)
class GatewayPaths:
    """Filesystem locations the rendered config refers to."""

    js_module: str
    health_js: str
    pid_path: str
    error_log: str
    access_log: str
    temp_dir: str | None = None
    run_as_user: str | None = None


def local_paths(state_dir: Path, js_module: Path, *, as_root: bool) -> GatewayPaths:
    """Paths for a local nginx started with ``-p <state_dir>/nginx``."""
    base = state_dir / "nginx"
    return GatewayPaths(
        js_module=str(js_module),
        health_js=str(HEALTH_JS_PATH),
        pid_path=str(base / "nginx.pid"),
        error_log=str(state_dir / "logs" / "gateway.error.log"),
        access_log=str(state_dir / "logs" / "gateway.access.log"),
        temp_dir=str(base / "temp"),
        # As root nginx would switch its workers to `nobody`, who cannot write the state dir.
        run_as_user="root" if as_root else None,
    )


COMPOSE_PATHS = GatewayPaths(
    js_module="/usr/lib/nginx/modules/ngx_http_js_module.so",
    health_js="/etc/nginx/crashcart/health.js",
    pid_path="/tmp/nginx.pid",
    error_log="/dev/stderr",
    access_log="/dev/stdout",
)


def _timeout(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def render_gateway_config(topology: Topology, paths: GatewayPaths, *, proxy_host: str,
                          listen: str, worker_processes: str = "auto") -> str:
    """The nginx.conf text for ``topology``; upstreams are the gateway->service proxies."""
    template = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(GATEWAY_DIR)),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False,
    ).get_template(TEMPLATE_PATH.name)
    upstreams = []
    for name in topology.services:
        try:
            edge = topology.edge(GATEWAY, name)
        except KeyError:
            continue
        upstreams.append({"id": f"crashcart_{name}", "service": name, "proxy": edge.name,
                          "address": f"{proxy_host}:{edge.proxy_port}"})
    routes = [{"prefix": prefix, "upstream": f"crashcart_{name}"}
              for prefix, name in topology.gateway_routes()]
    gateway = topology.gateway
    return template.render(
        topology_source=topology.source.name,
        gateway=gateway,
        listen=listen,
        worker_processes=worker_processes,
        upstreams=upstreams,
        routes=routes,
        health_services=" ".join(u["service"] for u in upstreams),
        error_pages=ERROR_PAGES,
        sent_as=SENT_AS,
        connect_timeout=_timeout(gateway.connect_timeout_s),
        read_timeout=_timeout(gateway.read_timeout_s),
        **{field: getattr(paths, field) for field in paths.__slots__},
    )


def render_local(topology: Topology, state_dir: Path, js_module: Path, *,
                 as_root: bool) -> str:
    return render_gateway_config(
        topology, local_paths(state_dir, js_module, as_root=as_root),
        proxy_host=topology.toxiproxy.host,
        listen=f"{topology.gateway.host}:{topology.gateway.port}",
        worker_processes="2",
    )


def render_compose(topology: Topology) -> str:
    return render_gateway_config(topology, COMPOSE_PATHS, proxy_host="toxiproxy",
                                 listen=str(topology.gateway.port))
