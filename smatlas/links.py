"""Checking the links of the papers: offline by default, online on request.

Offline (`smatlas check-links`), every paper file is read with positions and its `url`, `code`,
`arxiv` and `doi` are checked for shape: URL syntax (scheme, host, port, characters), arXiv id
format (the month, the digit count of its era, a known archive for old-style ids), DOI format,
GitHub repository URL shape, and agreement between an arXiv or doi.org `url` and the `arxiv` or
`doi` field. Each problem is a `UserError` at the value's `file:line:col`.

Online (`--online`), each distinct target is requested once (arXiv ids as arxiv.org/abs pages,
DOIs through doi.org), HEAD first and GET when HEAD is refused, with a timeout, a limit on parallel
requests overall and per host, and a cache of definite answers in the user cache folder. It is for
people, never for CI: the answer depends on other people's servers.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import threading
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from smatlas.errors import UserError
from smatlas.kb import paper_files
from smatlas.load import read_file

LINK_FIELDS = ("url", "code", "arxiv", "doi")

# ---- offline shape checks -----------------------------------------------------------------------

_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_ARXIV_NEW = re.compile(r"(\d{2})(\d{2})\.(\d{4,5})")
_ARXIV_OLD = re.compile(r"([a-z-]+)(\.[A-Z]{2})?/(\d{2})(\d{2})(\d{3})")
_ARXIV_VERSION = re.compile(r"v\d+$")
# Archives of old-style arXiv ids (before April 2007).
_ARXIV_ARCHIVES = frozenset(
    """acc-phys adap-org alg-geom ao-sci astro-ph atom-ph bayes-an chao-dyn chem-ph cmp-lg comp-gas
    cond-mat cs dg-ga funct-an gr-qc hep-ex hep-lat hep-ph hep-th math math-ph mtrl-th nlin nucl-ex
    nucl-th patt-sol physics plasm-ph q-alg q-bio quant-ph solv-int supr-con""".split()
)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_GITHUB_OWNER = re.compile(r"(?!-)(?!.*--)[A-Za-z0-9-]{1,39}(?<!-)")
_GITHUB_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
_GITHUB_RESERVED = frozenset("about features marketplace orgs settings sponsors topics login search explore".split())


def url_problem(url: str) -> str | None:
    """What is wrong with the syntax of an http(s) URL, or None."""
    if any(c.isspace() for c in url):
        return "contains a space or line break; encode it as %20 or remove it"
    if not _URL_CHARS.fullmatch(url):
        bad = sorted({c for c in url if not _URL_CHARS.fullmatch(c)})
        return f"contains characters a URL cannot hold unencoded: {' '.join(bad)}"
    if _PERCENT.search(url):
        return "has a '%' that does not start a %XX escape"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"cannot be parsed: {exc}"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    host = parts.hostname or ""
    if not host:
        return "has no host"
    if port == 0:
        return "has port 0"
    if parts.netloc.endswith(":"):
        return "has an empty port after ':'"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    try:
        labels = [label.encode("idna").decode("ascii") for label in labels]
    except UnicodeError:
        return f"has an invalid host name '{host}'"
    if len(labels) < 2 and host != "localhost":
        return f"host '{host}' has no domain (like example.org)"
    if not all(_LABEL.fullmatch(label) for label in labels):
        return f"has an invalid host name '{host}'"
    if labels[-1].isdigit():
        return f"has an invalid host name '{host}'"
    return None


def arxiv_problem(value: str) -> str | None:
    """What is wrong with an arXiv id, or None."""
    if value.lower().startswith("arxiv:"):
        return "drop the 'arXiv:' prefix"
    if _ARXIV_VERSION.search(value) and not _ARXIV_OLD.fullmatch(value):
        return f"drop the version suffix: write '{_ARXIV_VERSION.sub('', value)}'"
    if m := _ARXIV_NEW.fullmatch(value):
        yy, mm, number = int(m[1]), int(m[2]), m[3]
        if not 1 <= mm <= 12:
            return f"month {m[2]} does not exist (new-style ids are YYMM.NNNNN)"
        if (yy, mm) < (7, 4):
            return "new-style ids start in April 2007 (0704); older papers have ids like 'cs/0501001'"
        digits = 5 if yy >= 15 else 4
        if len(number) != digits:
            return f"ids from 20{m[1]} have {digits} digits after the dot"
        return None
    if m := _ARXIV_OLD.fullmatch(value):
        if m[1] not in _ARXIV_ARCHIVES:
            return f"'{m[1]}' is not an arXiv archive (old-style ids look like 'cs/0501001' or 'math.GT/0309136')"
        yy, mm = int(m[3]), int(m[4])
        if not 1 <= mm <= 12:
            return f"month {m[4]} does not exist (old-style ids are archive/YYMMNNN)"
        if 8 <= yy <= 90:
            return "old-style ids run from 1991 to March 2007"
        return None
    return "must be an arXiv id like '2306.11695' or 'cs/0501001'"


def doi_problem(value: str) -> str | None:
    """What is wrong with a DOI, or None."""
    lowered = value.lower()
    if lowered.startswith(("http://", "https://", "doi.org/", "dx.doi.org/")):
        return "write the bare DOI (10.xxxx/...), without the doi.org address"
    if lowered.startswith("doi:"):
        return "drop the 'doi:' prefix"
    if not _DOI.fullmatch(value):
        return "must look like '10.18653/v1/2023.acl-long.1': '10.', a registrant code of 4 to 9 digits, '/', a suffix"
    if value[-1] in ".,;:":
        return f"ends with '{value[-1]}', probably punctuation copied with it"
    return None


def github_problem(url: str) -> str | None:
    """What is wrong with the shape of a GitHub URL, or None (also for URLs on other hosts)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host not in ("github.com", "www.github.com"):
        return None
    if host == "www.github.com":
        return "write github.com, without www."
    if parts.scheme != "https":
        return "GitHub URLs start with https://"
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        return "must point to a repository: https://github.com/OWNER/REPO"
    owner, repo = segments[0], segments[1]
    if owner.lower() in _GITHUB_RESERVED or not _GITHUB_OWNER.fullmatch(owner):
        return f"'{owner}' is not a valid GitHub user or organisation name"
    if repo.endswith(".git"):
        return f"drop the '.git' suffix: https://github.com/{owner}/{repo[:-4]}"
    if repo in (".", "..") or not _GITHUB_REPO.fullmatch(repo):
        return f"'{repo}' is not a valid GitHub repository name"
    if len(segments) > 2 and segments[2] not in ("tree", "blob"):
        return "link the repository or a folder in it (…/tree/BRANCH/PATH), not a page of the repository"
    return None


def _arxiv_in_url(url: str) -> str | None:
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in ("arxiv.org", "www.arxiv.org", "export.arxiv.org"):
        return None
    m = re.match(r"/(?:abs|pdf|html)/(.+?)(?:\.pdf)?/?$", parts.path)
    return _ARXIV_VERSION.sub("", m[1]) if m else None


def _doi_in_url(url: str) -> str | None:
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in ("doi.org", "dx.doi.org", "www.doi.org"):
        return None
    from urllib.parse import unquote

    return unquote(parts.path.lstrip("/")) or None


@dataclass(frozen=True)
class Link:
    """A link of a paper and where it is written."""

    path: str
    line: int
    col: int
    field: str
    value: str

    @property
    def target(self) -> str:
        """The address to request."""
        if self.field == "arxiv":
            return f"https://arxiv.org/abs/{self.value}"
        if self.field == "doi":
            return f"https://doi.org/{self.value}"
        return self.value


def check_file(file: Path, root: Path) -> tuple[list[Link], list[UserError]]:
    """The links of one paper file and every shape problem in them."""
    path, doc, errors = read_file(file, root)
    if doc is None or not isinstance(doc.data, dict):
        return [], errors  # `smatlas validate` explains what is wrong with the file itself
    links, problems = [], []
    values = {f: doc.data.get(f) for f in LINK_FIELDS if isinstance(doc.data.get(f), str)}
    for name, value in values.items():
        line, col = doc.position((name,))
        links.append(Link(path, line, col, name, value))

        def problem(message: str, name: str = name, line: int = line, col: int = col) -> None:
            problems.append(UserError(path, line, col, f"{name}: {message}"))

        if name == "arxiv":
            if msg := arxiv_problem(value):
                problem(msg)
        elif name == "doi":
            if msg := doi_problem(value):
                problem(msg)
        else:
            if msg := url_problem(value) or github_problem(value):
                problem(msg)
                continue
            if name == "url" and (in_url := _arxiv_in_url(value)) is not None:
                if "arxiv" in values and values["arxiv"] != in_url:
                    problem(f"points to arXiv {in_url} but arxiv is '{values['arxiv']}'")
                elif msg := arxiv_problem(in_url):
                    problem(f"arXiv id in the URL: {msg}")
            if name == "url" and (in_url := _doi_in_url(value)) is not None:
                if "doi" in values and values["doi"].lower() != in_url.lower():
                    problem(f"points to DOI {in_url} but doi is '{values['doi']}'")
                elif msg := doi_problem(in_url):
                    problem(f"DOI in the URL: {msg}")
    return links, problems


def check_offline(root: Path, files: list[Path] | None = None) -> tuple[list[Link], list[UserError]]:
    links, errors = [], []
    for file in paper_files(root) if files is None else files:
        found, problems = check_file(file, root)
        links += found
        errors += problems
    return links, errors


# ---- online -------------------------------------------------------------------------------------

USER_AGENT = "smatlas-check-links/0.1 (Small Models Atlas link checker)"
DEFINITE = ("ok", "broken")  # outcomes worth caching; the others may change on the next try


@dataclass
class Result:
    target: str
    outcome: str  # ok | broken | blocked | unreachable
    status: int | None = None
    final_url: str | None = None
    detail: str = ""
    checked: str = ""  # ISO time of the request
    cached: bool = False
    links: list[Link] = field(default_factory=list)


def classify(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403, 429):
        return "blocked"  # the server refuses robots or wants a login: says nothing about the link
    if status >= 500:
        return "unreachable"
    return "broken"


class _NoProxyOpener:
    """urllib without environment proxies for loopback hosts, with redirects followed."""

    def __init__(self):
        self.direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.default = urllib.request.build_opener()

    def open(self, request: urllib.request.Request, timeout: float):
        host = urlsplit(request.full_url).hostname or ""
        loopback = host == "localhost" or (host.replace(".", "").isdigit() and host.startswith("127."))
        return (self.direct if loopback else self.default).open(request, timeout=timeout)


def fetch(target: str, timeout: float, opener=None) -> Result:
    """Request one address: HEAD, then GET when the server refuses HEAD or answers it oddly."""
    opener = opener or _NoProxyOpener()
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    status, final, detail = None, None, ""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(target, method=method, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        try:
            with opener.open(request, timeout=timeout) as response:
                status, final = response.status, response.geturl()
                if method == "GET":
                    response.read(1024)
        except urllib.error.HTTPError as exc:
            status, final, detail = exc.code, exc.geturl(), str(exc.reason)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            status, detail = None, f"{type(reason).__name__}: {reason}"
            if "timed out" in str(reason).lower():
                detail = f"no answer within {timeout:g} s"
        if status is None or status < 400 or status in (404, 410):
            break  # a clear answer, or none at all; other codes may just mean the server dislikes HEAD
    outcome = classify(status) if status is not None else "unreachable"
    return Result(target, outcome, status, final if final != target else None, detail, now)


class LinkCache:
    """Definite answers (ok, broken) by address, in a JSON file, trusted for `max_age_days`."""

    def __init__(self, path: Path | None, max_age_days: float = 7):
        self.path, self.max_age = path, dt.timedelta(days=max_age_days)
        self.entries: dict[str, dict] = {}
        if path is not None:
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    def get(self, target: str) -> Result | None:
        entry = self.entries.get(target)
        if not entry:
            return None
        try:
            age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(entry["checked"])
        except (KeyError, ValueError, TypeError):
            return None
        if age > self.max_age or entry.get("outcome") not in DEFINITE:
            return None
        fields = {k: entry.get(k) for k in ("outcome", "status", "final_url", "checked")}
        return Result(target, detail=entry.get("detail") or "", cached=True, **fields)

    def put(self, result: Result) -> None:
        if result.outcome in DEFINITE:
            self.entries[result.target] = {
                "outcome": result.outcome,
                "status": result.status,
                "final_url": result.final_url,
                "detail": result.detail,
                "checked": result.checked,
            }

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


def check_online(
    links: list[Link],
    timeout: float = 10.0,
    workers: int = 8,
    per_host: int = 2,
    cache: LinkCache | None = None,
) -> list[Result]:
    """Request every distinct target once: at most `workers` requests at a time and `per_host` to
    one host, each with `timeout` seconds. Cached definite answers are reused."""
    by_target: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        by_target[link.target].append(link)
    cache = cache or LinkCache(None)
    host_locks: dict[str, threading.BoundedSemaphore] = defaultdict(lambda: threading.BoundedSemaphore(per_host))
    guard = threading.Lock()
    opener = _NoProxyOpener()

    def one(target: str) -> Result:
        with guard:
            lock = host_locks[(urlsplit(target).hostname or "").lower()]
        with lock:
            return fetch(target, timeout, opener)

    results: dict[str, Result] = {}
    todo = []
    for target in by_target:
        hit = cache.get(target)
        if hit is not None:
            results[target] = hit
        else:
            todo.append(target)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for target, result in zip(todo, pool.map(one, todo), strict=True):
            results[target] = result
            cache.put(result)
    cache.save()
    out = []
    for target in sorted(by_target):
        result = results[target]
        result.links = by_target[target]
        out.append(result)
    return out


def result_errors(results: list[Result]) -> list[UserError]:
    """Broken links as errors and unverifiable ones as warnings, at every place they are written."""
    out = []
    for r in results:
        if r.outcome == "ok":
            continue
        what = f"HTTP {r.status}" if r.status is not None else r.detail
        if r.outcome == "broken":
            message, severity = f"{what}: the link is broken", "error"
        elif r.outcome == "blocked":
            message, severity = f"{what}: the server refused the checker; check by hand", "warning"
        else:
            message, severity = f"{what or 'no answer'}: could not be reached; try again later", "warning"
        for link in r.links:
            shown = f" ({r.target})" if r.target != link.value else ""
            out.append(UserError(link.path, link.line, link.col, f"{link.field}: {message}{shown}", severity))
    return out


def report(results: list[Result]) -> dict:
    """A JSON-ready report: counts by outcome and one entry per target with where it is written."""
    counts: dict[str, int] = defaultdict(int)
    for r in results:
        counts[r.outcome] += 1
    return {
        "checked": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "targets": len(results),
        "counts": dict(sorted(counts.items())),
        "from_cache": sum(r.cached for r in results),
        "results": [
            {
                **{k: v for k, v in asdict(r).items() if k != "links"},
                "where": [f"{x.path}:{x.line}:{x.col}" for x in r.links],
            }
            for r in results
        ],
    }
