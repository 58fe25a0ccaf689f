"""Site generation: Markdown pages, data files and a nav written into a build folder, rendered by
mkdocs-material, and a search index. `build_site(kb, out)` builds; `serve(folder)` serves a built site."""

from urllib.parse import urlsplit

from smatlas.site.build import SiteError, build_site, serve
from smatlas.site.config import read_config


def site_path(root) -> str:
    """The path part of the configured site URL ('/' when none): where `serve` puts the site."""
    return urlsplit(read_config(root).site_url).path or "/"


__all__ = ["SiteError", "build_site", "serve", "site_path"]
