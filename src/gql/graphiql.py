"""GraphiQL that works with no internet: strawberry's GraphiQL page with its CDN addresses pointed at the copies of
the same files this package ships (``outboundql/static/graphiql``, laid out as on the CDN: ``<package>@<version>/
<path>``), served with immutable cache headers. The page keeps strawberry's ``integrity`` attributes, so the browser
itself checks that each local copy is the file strawberry pins; ``scripts/graphiql_assets.py`` fetches them."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from strawberry.http.ides import get_graphql_ide_html

CDN = "https://unpkg.com/"
ASSETS_DIR = Path(__file__).resolve().parents[1] / "static" / "graphiql"
MOUNT_PATH = "/static/graphiql"  # beside /graphql; the page names its assets under the server's root path
CACHE_CONTROL = "public, max-age=31536000, immutable"  # a versioned path's content never changes

_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.DOTALL)
_URL = re.compile(r'\b(?:src|href)="' + re.escape(CDN) + r'(?P<path>[^"]+)"')
_INTEGRITY = re.compile(r'\bintegrity="(?P<integrity>[^"]+)"')


@dataclass(frozen=True)
class Asset:
    """One file the page loads: its path under the CDN (``graphiql@3.8.3/graphiql.min.js``) and strawberry's
    subresource integrity for it (``sha384-…``)."""

    path: str
    integrity: str

    @property
    def package(self) -> str:
        """``graphiql@3.8.3``, ``@graphiql/plugin-explorer@1.0.2``: the folder its package's files are in."""
        scoped = self.path.startswith("@")
        parts = self.path.split("/")
        return "/".join(parts[:2] if scoped else parts[:1])

    @property
    def file(self) -> str:
        """The file's path inside its npm package (``dist/index.umd.js``)."""
        return self.path.removeprefix(self.package + "/")


@functools.cache
def strawberry_page() -> str:
    """The GraphiQL page of the installed strawberry, loading its assets from the CDN."""
    return get_graphql_ide_html("graphiql")


def assets(page: str | None = None) -> list[Asset]:
    """Every CDN file ``page`` (strawberry's by default) loads, in order."""
    found: list[Asset] = []
    for tag in _TAG.finditer(page if page is not None else strawberry_page()):
        url, integrity = _URL.search(tag.group()), _INTEGRITY.search(tag.group())
        if url is not None:
            found.append(Asset(url["path"], integrity["integrity"] if integrity else ""))
    return found


def offline_page(root_path: str = "") -> str:
    """Strawberry's page loading its assets from this server (under ``root_path``, the server's path prefix)."""
    return strawberry_page().replace(CDN, f"{root_path}{MOUNT_PATH}/")


class ImmutableStaticFiles(StaticFiles):
    """Static files whose paths carry their version: browsers and proxies may keep them for a year."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = CACHE_CONTROL
        return response


def static_files() -> ImmutableStaticFiles:
    """The ASGI app serving the shipped assets at :data:`MOUNT_PATH`."""
    return ImmutableStaticFiles(directory=ASSETS_DIR)
