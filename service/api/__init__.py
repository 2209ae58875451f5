"""HTTP routers of the API (prefix /v1) and the health endpoints."""
