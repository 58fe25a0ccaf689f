"""Site generation: Markdown pages, data files and a nav written into a build folder, rendered by
mkdocs-material. `build_site(kb, out)` builds; `serve(folder)` serves a built site."""

from smatlas.site.build import SiteError, build_site, serve

__all__ = ["SiteError", "build_site", "serve"]
