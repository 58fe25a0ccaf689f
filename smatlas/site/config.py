"""The project's addresses and licences, from `[tool.smatlas]` in pyproject.toml (read with tomllib).

An atlas folder without its own pyproject.toml (a test fixture, a benchmark's synthetic atlas) uses
the one of the repository the package comes from, so there is one place to change them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

PACKAGE_ROOT = Path(__file__).resolve().parents[2]

LICENCES = {
    "MIT": ("MIT", "https://opensource.org/license/mit"),
    "CC-BY-4.0": ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
}


@dataclass(frozen=True)
class SiteConfig:
    repo_url: str = ""
    site_url: str = ""
    branch: str = "main"
    code_license: str = ""
    content_license: str = ""

    @property
    def site_base(self) -> str:
        """The site URL ending in one slash, or '' when none is configured."""
        return self.site_url.rstrip("/") + "/" if self.site_url else ""

    def absolute(self, path: str) -> str:
        """The absolute URL of a site-root-relative path ('' when no site URL is configured)."""
        return self.site_base + path if self.site_base else ""

    def source_url(self, path: str) -> str:
        """A file of the repository on its hosting site ('' when no repository is configured)."""
        return f"{self.repo_url.rstrip('/')}/blob/{self.branch}/{quote(path)}" if self.repo_url else ""

    def edit_url(self, path: str) -> str:
        return f"{self.repo_url.rstrip('/')}/edit/{self.branch}/{quote(path)}" if self.repo_url else ""

    def correction_url(self, paper_id: str) -> str:
        """The 'Correct a paper' issue form, pre-filled with the paper id."""
        if not self.repo_url:
            return ""
        query = urlencode({"template": "correct-paper.yml", "title": f"Correct paper: {paper_id}", "paper": paper_id})
        return f"{self.repo_url.rstrip('/')}/issues/new?{query}"

    def licence(self, key: str) -> tuple[str, str]:
        """(display name, URL) of a licence given by its SPDX id."""
        return LICENCES.get(key, (key, ""))


def read_config(root: Path) -> SiteConfig:
    for folder in (root, PACKAGE_ROOT):
        file = folder / "pyproject.toml"
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        table = data.get("tool", {}).get("smatlas")
        if isinstance(table, dict):
            known = SiteConfig.__dataclass_fields__
            return SiteConfig(**{k: str(v) for k, v in table.items() if k in known})
    return SiteConfig()
