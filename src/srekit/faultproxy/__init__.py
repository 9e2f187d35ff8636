"""The fault proxy: a Toxiproxy-compatible TCP proxy (its API, toxics and status codes)
with srekit's extensions (packet loss, HTTP faults, toxics that expire). Rules in
`core.faultproxy`; the data path in `proxy`, the REST API in `api`, the process in `server`.
"""

from srekit.faultproxy.api import api_app
from srekit.faultproxy.proxy import Proxy, ProxyError, Registry
from srekit.faultproxy.server import serve, start_api

__all__ = ["Proxy", "ProxyError", "Registry", "api_app", "serve", "start_api"]
