"""The API documentation pages work without internet: every asset they load is served by srekit
itself, with the content type a browser needs to use it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.api.conftest import Api

# What a browser fetches for a page: scripts, stylesheets and icons, and the URL Swagger UI and
# ReDoc are told to load the API description from.
_SPEC_URL = re.compile(r"""\b(?:url|spec-url)\s*[:=]\s*['"]([^'"]+)['"]""")
_EXPECTED_TYPES = {
    ".js": "javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        elif tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))
        elif tag == "img" and found.get("src"):
            self.urls.append(str(found["src"]))
        elif tag == "redoc" and found.get("spec-url"):
            self.urls.append(str(found["spec-url"]))


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls + _SPEC_URL.findall(html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_server(lite_api: Api, page: str) -> None:
    response = lite_api.client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    # no address outside the server anywhere in the page (fonts, scripts, favicon)
    assert re.findall(r"https?://[^\s'\"<>)]+", html) == []
    assets = _assets(html)
    kinds = {urlsplit(url).path.rsplit(".", 1)[-1] for url in assets}
    assert "js" in kinds, assets
    assert "json" in kinds, assets  # the API description itself
    for url in assets:
        target = urljoin(f"http://testserver{page}", url)
        assert urlsplit(target).netloc == "testserver", url
        asset = lite_api.client.get(target)
        assert asset.status_code == 200, url
        suffix = "." + urlsplit(url).path.rsplit(".", 1)[-1]
        assert _EXPECTED_TYPES[suffix] in asset.headers["content-type"], (url, asset.headers)
        assert len(asset.content) > 100, url


def test_swagger_page_loads_swagger_ui_5(lite_api: Api) -> None:
    """Swagger UI 4 cannot render OpenAPI 3.1 (what FastAPI writes); the bundled one is 5."""
    html = lite_api.client.get("/docs").text
    script = next(url for url in _assets(html) if url.endswith("swagger-ui-bundle.js"))
    bundle = lite_api.client.get(urljoin("http://testserver/docs", script)).text
    assert lite_api.client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert re.search(r'"5\.\d+\.\d+"', bundle)
    assert "SwaggerUIBundle" in bundle


def test_docs_assets_are_public_and_missing_ones_are_404(lite_api: Api) -> None:
    html = lite_api.client.get("/docs").text
    css = next(url for url in _assets(html) if url.endswith(".css"))
    target = urljoin("http://testserver/docs", css)
    assert lite_api.client.get(target).status_code == 200  # no token
    missing = target.rsplit("/", 1)[0] + "/no-such-file.js"
    assert lite_api.client.get(missing).status_code == 404
    escape = target.rsplit("/", 1)[0] + "/../../../../etc/passwd"
    assert lite_api.client.get(escape).status_code == 404


def test_redoc_is_served_without_its_outside_logo(lite_api: Api) -> None:
    """ReDoc's bundle fetches Redocly's logo from their CDN; srekit serves it made inline."""
    served = lite_api.client.get("/docs/assets/redoc.standalone.js")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/javascript")
    assert "cdn.redoc.ly" not in served.text
    assert 'alt:"redocly logo"' in served.text  # the same bundle, one image swapped
    assert "data:image/svg+xml," in served.text
