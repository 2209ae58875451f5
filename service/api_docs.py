"""The interactive API docs (/docs, /redoc) and /favicon.ico from local files: no CDN, a CSP of their own."""
from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"  # swagger-ui-dist and ReDoc, as shipped by the pinned fastapi-offline package
FAVICON = (files("service") / "static" / "favicon.svg").read_bytes()
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
BASE_CSP = ("default-src 'none'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
# ReDoc's sidebar always shows Redocly's logo from their CDN; offline that is a blocked request and a CSP error.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# ReDoc styles itself with <style> elements it writes at run time and searches in a blob: worker.
REDOC_CSP = f"{BASE_CSP}; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src blob:"


def inline_script_hashes(html: str) -> str:
    """CSP sources allowing exactly the page's own inline scripts (FastAPI's Swagger UI start-up), nothing else."""
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
                    for script in INLINE_SCRIPT.findall(html))


@lru_cache(maxsize=1)
def redoc_script() -> bytes:
    """The packaged ReDoc bundle with its one outside URL (the logo) replaced by our own icon, inline."""
    script = (files("fastapi_offline") / "static" / "redoc.standalone.js").read_text(encoding="utf-8")
    if script.count(REDOC_LOGO) != 1:
        raise RuntimeError("the ReDoc bundle no longer names its logo as expected: check the fastapi-offline upgrade")
    icon = "data:image/svg+xml;base64," + base64.b64encode(FAVICON).decode()
    return script.replace(REDOC_LOGO, icon).encode()


def add_api_docs(app: FastAPI) -> None:
    """Routes for /docs, /redoc and /favicon.ico; the app must be made with docs_url=None and redoc_url=None."""
    @app.get(f"{ASSETS}/redoc.standalone.js", include_in_schema=False)  # before the mount, which it overrides
    def redoc_js() -> Response:
        return Response(redoc_script(), media_type="text/javascript", headers={"cache-control": "public, max-age=3600"})

    app.mount(ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} API", oauth2_redirect_url=None,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}/favicon.ico",
            swagger_ui_parameters={"validatorUrl": None})  # no badge fetched from validator.swagger.io
        csp = f"{BASE_CSP}; script-src 'self' {inline_script_hashes(page.body.decode())}; style-src 'self'"
        page.headers["content-security-policy"] = csp
        return page

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(openapi_url=root + app.openapi_url, title=f"{app.title} API",
                              redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}/favicon.ico", with_google_fonts=False)
        page.headers["content-security-policy"] = REDOC_CSP
        return page

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(FAVICON, media_type="image/svg+xml", headers={"cache-control": "public, max-age=86400"})
