"""`smatlas check-links`: the offline shape checks with positions, and the online checker against a
local HTTP server on 127.0.0.1 (nothing here may reach the network: a guard refuses other hosts)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ROOT, VALID_PAPER, write_paper

from smatlas.cli import main
from smatlas.links import (
    Link,
    LinkCache,
    arxiv_problem,
    check_offline,
    check_online,
    doi_problem,
    github_problem,
    url_problem,
)

pytestmark = pytest.mark.usefixtures("no_network")  # conftest: only the loopback resolves


# ---- offline ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2306.11695", "0704.0001", "1412.9999", "1501.00001", "cs/0501001", "math.GT/0309136", "hep-th/9901001"],
)
def test_valid_arxiv_ids_pass(value):
    assert arxiv_problem(value) is None


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("2313.00001", "month 13 does not exist"),
        ("0612.0001", "start in April 2007"),
        ("2401.0001", "have 5 digits"),
        ("1203.00001", "have 4 digits"),
        ("2401.00001v2", "drop the version suffix: write '2401.00001'"),
        ("arXiv:2401.00001", "drop the 'arXiv:' prefix"),
        ("foo/0501001", "'foo' is not an arXiv archive"),
        ("cs/1501001", "run from 1991 to March 2007"),
        ("2401-00001", "must be an arXiv id"),
    ],
)
def test_bad_arxiv_ids_are_explained(value, fragment):
    assert fragment in (arxiv_problem(value) or "")


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("https://doi.org/10.1000/xyz", "bare DOI"),
        ("doi:10.1000/xyz", "drop the 'doi:' prefix"),
        ("10.1000/xyz.", "ends with '.'"),
        ("10.10/xyz", "registrant code of 4 to 9 digits"),
        ("10.1000/has space", "must look like"),
    ],
)
def test_bad_dois_are_explained(value, fragment):
    assert fragment in (doi_problem(value) or "")
    assert doi_problem("10.18653/v1/2023.acl-long.1") is None


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("https://example.org/a b", "contains a space"),
        ("ftp://example.org/x", "must start with http"),
        ("https://user:pw@example.org/", "user name or password"),
        ("https://example/x", "has no domain"),
        ("https://exa_mple.org/", "invalid host name"),
        ("https://example.org:99999/", "cannot be parsed"),
        ("https://example.org/a%zz", "does not start a %XX escape"),
        ("https://example.org/\u00e9t\u00e9", "cannot hold unencoded"),
        ("https://example.org:/x", "empty port"),
    ],
)
def test_bad_url_syntax_is_explained(value, fragment):
    assert fragment in (url_problem(value) or "")


@pytest.mark.parametrize(
    "value",
    [
        "https://example.org/a?b=c#d",
        "http://127.0.0.1:8000/x",
        "https://[::1]:8080/x",
        "https://xn--bcher-kva.example/",
    ],
)
def test_good_urls_pass(value):
    assert url_problem(value) is None


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("https://github.com/owner", "must point to a repository"),
        ("https://github.com/-bad/repo", "not a valid GitHub user"),
        ("https://github.com/settings/profile", "not a valid GitHub user"),
        ("https://github.com/owner/repo.git", "drop the '.git' suffix"),
        ("http://github.com/owner/repo", "start with https://"),
        ("https://www.github.com/owner/repo", "without www."),
        ("https://github.com/owner/repo/issues/3", "not a page of the repository"),
        ("https://github.com/owner/re po", "not a valid GitHub repository name"),
    ],
)
def test_github_url_shape(value, fragment):
    assert fragment in (github_problem(value) or "")
    assert github_problem("https://github.com/microsoft/LMOps/tree/main/minillm") is None
    assert github_problem("https://gitlab.com/owner") is None


def bad_paper(old: str, new: str) -> str:
    assert old in VALID_PAPER
    return VALID_PAPER.replace(old, new)


@pytest.mark.parametrize(
    "old,new,where,fragment",
    [
        ("arxiv: '2401.00001'", "arxiv: '2401.0001'", "11:8", "arxiv: ids from 2024 have 5 digits"),
        ("arxiv: '2401.00001'", "doi: 10.1000/xyz.", "11:6", "doi: ends with '.'"),
        (
            "arxiv: '2401.00001'",
            "arxiv: '2401.00001'\ncode: https://github.com/a/b.git",
            "12:7",
            "code: drop the '.git'",
        ),
        (
            "arxiv: '2401.00001'",
            "arxiv: '2401.00001'\nurl: https://arxiv.org/abs/2401.00002v3",
            "12:6",
            "url: points to arXiv 2401.00002 but arxiv is '2401.00001'",
        ),
        (
            "arxiv: '2401.00001'",
            "doi: 10.1000/abc\nurl: https://doi.org/10.1000/xyz",
            "12:6",
            "url: points to DOI 10.1000/xyz but doi is '10.1000/abc'",
        ),
        ("arxiv: '2401.00001'", "url: 'https://example/x'", "11:6", "url: host 'example' has no domain"),
    ],
)
def test_offline_errors_carry_file_line_col(atlas, capsys, old, new, where, fragment):
    write_paper(atlas, "doe2024small.yaml", bad_paper(old, new))
    code = main(["--root", str(atlas), "check-links"])
    out = capsys.readouterr()
    assert code == 1
    assert f"papers/doe2024small.yaml:{where}: {fragment}" in out.err
    assert "Traceback" not in out.err


def test_real_atlas_links_have_valid_shapes():
    links, errors = check_offline(ROOT)
    assert len(links) > 400
    assert errors == []


def test_offline_cli_passes_a_clean_atlas_and_names_given_files(atlas, capsys):
    assert main(["--root", str(atlas), "check-links"]) == 0
    assert capsys.readouterr().out.strip() == "1 links in 1 papers: OK"
    other = write_paper(atlas, "bad.yaml", bad_paper("arxiv: '2401.00001'", "arxiv: 'x'"))
    assert main(["--root", str(atlas), "check-links", str(atlas / "papers" / "doe2024small.yaml")]) == 0
    capsys.readouterr()
    assert main(["--root", str(atlas), "check-links", str(other)]) == 1


# ---- online, against 127.0.0.1 -----------------------------------------------------------------


class Server:
    def __init__(self):
        self.hits: dict[str, int] = {}
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, body: bool):
                path = self.path.split("?")[0]
                with server.lock:
                    server.hits[self.path] = server.hits.get(self.path, 0) + 1
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    if path == "/slow":
                        time.sleep(1.5)
                    if path == "/wait":
                        time.sleep(0.15)
                finally:
                    # counted as active until its answer starts: the client frees its slot only once it
                    # has the answer, so a later decrement would race with the client's next request
                    with server.lock:
                        server.active -= 1
                status = {
                    "/missing": 404,
                    "/gone": 410,
                    "/forbidden": 403,
                    "/error": 500,
                    "/moved": 301,
                }.get(path, 200)
                if path == "/nohead" and self.command == "HEAD":
                    status = 405
                self.send_response(status)
                if status == 301:
                    self.send_header("Location", "/ok")
                self.send_header("Content-Length", "2")
                self.end_headers()
                if body:
                    self.wfile.write(b"ok")

            def do_HEAD(self):
                self.answer(body=False)

            def do_GET(self):
                self.answer(body=True)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def links_to(server: Server, *paths: str) -> list[Link]:
    return [Link("papers/x.yaml", i + 1, 6, "url", server.base + p) for i, p in enumerate(paths)]


def test_online_outcomes_redirects_and_head_fallback(server):
    paths = ["/ok", "/missing", "/gone", "/forbidden", "/error", "/moved", "/nohead"]
    results = {r.target.removeprefix(server.base): r for r in check_online(links_to(server, *paths), timeout=5)}
    assert {p: r.outcome for p, r in results.items()} == {
        "/ok": "ok",
        "/missing": "broken",
        "/gone": "broken",
        "/forbidden": "blocked",
        "/error": "unreachable",
        "/moved": "ok",
        "/nohead": "ok",
    }
    assert results["/moved"].final_url == server.base + "/ok"
    assert results["/missing"].status == 404
    assert server.hits["/nohead"] == 2  # HEAD refused, then GET


def test_online_timeout_is_reported_not_raised(server):
    start = time.perf_counter()
    [result] = check_online(links_to(server, "/slow"), timeout=0.3)
    assert time.perf_counter() - start < 0.9  # one attempt: no GET after a HEAD that timed out
    assert result.outcome == "unreachable" and "0.3 s" in result.detail


def test_online_concurrency_is_limited_per_host_and_overall(server):
    check_online(links_to(server, *[f"/wait?i={i}" for i in range(8)]), timeout=5, workers=8, per_host=2)
    assert server.max_active == 2
    server.max_active = 0
    check_online(links_to(server, *[f"/wait?j={i}" for i in range(4)]), timeout=5, workers=1, per_host=4)
    assert server.max_active == 1


def test_online_cache_keeps_definite_answers_only(server, tmp_path):
    path = tmp_path / "links.json"
    paths = ["/ok", "/missing", "/forbidden", "/error"]
    check_online(links_to(server, *paths), timeout=5, cache=LinkCache(path))
    assert set(json.loads(path.read_text())) == {server.base + "/ok", server.base + "/missing"}
    before = dict(server.hits)
    again = check_online(links_to(server, *paths), timeout=5, cache=LinkCache(path))
    cached = {r.target.removeprefix(server.base): r.cached for r in again}
    assert cached == {"/ok": True, "/missing": True, "/forbidden": False, "/error": False}
    assert server.hits["/ok"] == before["/ok"] and server.hits["/error"] > before["/error"]
    assert [r.outcome for r in again if r.target.endswith("/missing")] == ["broken"]
    check_online(links_to(server, "/ok"), timeout=5, cache=LinkCache(path, max_age_days=0))
    assert server.hits["/ok"] > before["/ok"]  # expired: asked again


def test_online_cli_reports_broken_links_where_they_are_written(atlas, server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SMATLAS_CACHE_DIR", str(tmp_path / "cache"))
    write_paper(atlas, "doe2024small.yaml", bad_paper("arxiv: '2401.00001'", f"url: {server.base}/ok"))
    text = bad_paper("arxiv: '2401.00001'", f"url: {server.base}/missing\ncode: {server.base}/forbidden")
    write_paper(atlas, "roe2024other.yaml", text.replace("doe2024small", "roe2024other"))
    report = tmp_path / "report.json"
    code = main(["--root", str(atlas), "check-links", "--online", "--timeout", "5", "--report", str(report)])
    out = capsys.readouterr()
    assert code == 1
    assert "papers/roe2024other.yaml:11:6: url: HTTP 404: the link is broken" in out.err
    assert "papers/roe2024other.yaml:12:7: warning: code: HTTP 403: the server refused the checker" in out.out
    assert "3 addresses requested: 1 blocked, 1 broken, 1 ok (0 from the cache)" in out.out
    data = json.loads(report.read_text())
    assert data["counts"] == {"blocked": 1, "broken": 1, "ok": 1}
    assert {r["target"]: r["where"] for r in data["results"]}[server.base + "/missing"] == [
        "papers/roe2024other.yaml:11:6"
    ]
    assert (tmp_path / "cache" / "links.json").is_file()
    main(["--root", str(atlas), "check-links", "--online"])
    assert "(2 from the cache)" in capsys.readouterr().out


def test_the_guard_refuses_real_hosts():
    [result] = check_online([Link("p.yaml", 1, 1, "arxiv", "2401.00001")], timeout=1)
    assert result.outcome == "unreachable" and "network disabled in tests" in result.detail
