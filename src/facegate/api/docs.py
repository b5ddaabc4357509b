"""The interactive API documentation at ``/docs``, offline.

Swagger UI's files come from the ``swagger-ui-bundle-v2`` package on PyPI (pinned
in ``pyproject.toml``; the Swagger UI release is in the asset path), installed
with facegate and served from ``/docs/assets/``: nothing is fetched from a CDN,
so the page works on a site without internet access. The page is served under
the web pages' Content-Security-Policy (``script-src 'self'``, ``style-src
'self'``, no inline script: the set-up is one small script of its own at
``/docs/init.js``), and it reads ``/openapi.json`` from the same service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from ..errors import RouteNotFound
from ..web.pages import PAGE_CSP

__all__ = ["SWAGGER_ASSETS", "install_docs", "swagger_ui_folder"]

#: The Swagger UI files the page loads (nothing else of the package is served).
SWAGGER_ASSETS: Final = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}

_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>facegate API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

_INIT: Final = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: false,
    queryConfigEnabled: false,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout"
  });
});
"""


def swagger_ui_folder() -> Path:
    """Where the installed Swagger UI files are."""
    import swagger_ui_bundle

    return Path(str(swagger_ui_bundle.swagger_ui_path))


def install_docs(app: FastAPI) -> None:
    """Add ``/docs``, its set-up script and its assets to ``app``."""
    headers = {"content-security-policy": PAGE_CSP}

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(_PAGE, headers=headers)

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(_INIT, media_type="text/javascript", headers=headers)

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        media = SWAGGER_ASSETS.get(name)
        if media is None:
            raise RouteNotFound(f"no asset {name}")
        return FileResponse(swagger_ui_folder() / name, media_type=media,
                            headers={**headers, "cache-control": "public, max-age=86400"})
