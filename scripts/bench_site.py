"""Benchmark: build the site for synthetic atlases of 1,000 and 10,000 papers and search it in Chromium.

For each size: build seconds (wall and CPU, the Pagefind index included), peak memory of the build,
size of the built site, size of the search index (the whole Pagefind folder, of which a query
fetches a few chunks), and, in headless Chromium with an empty cache, the time from pressing the
search key on a freshly loaded page to the first search result and the bytes fetched from the page
load to that result (median of three fresh page loads; the page itself, Material's CSS and JS and
the search files all count). Goals: 10,000 papers build in at most 60 s, the 10k/1k build-time
ratio is at most 11 (linear), and at 10,000 papers the first search result comes in at most 1 s
with at most 2 MB fetched.

The synthetic papers have titles from scripts/bench_validate.py's vocabulary, and summaries of 60
words and model lists drawn from it, so that the index is as varied as a real one. The machine may
be shared: CPU seconds (and their 10k/1k ratio) are reported beside wall seconds. The search query
is a word that a few percent of the synthetic papers contain.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_validate import make_atlas  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
QUERY = "speculative"  # a word of many synthetic titles


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def build(atlas: Path, out: Path) -> dict:
    """Run `smatlas build` in a child process; wall and CPU seconds and its peak memory."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "smatlas.cli", "--root", str(atlas), "build", "-o", str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"smatlas build failed on the synthetic atlas:\n{stderr[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_search(site: Path, repeats: int = 3) -> tuple[float, float]:
    """Medians of the time from pressing '/' on a freshly loaded page to the first search result, and
    of the bytes fetched from the page load to that result (bodies and headers, empty cache)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("bench_site needs Debian's chromium (apt-get install chromium)")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port), "-d", str(site)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    times, fetched = [], []
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for _ in range(repeats):
                context = browser.new_context()
                page = context.new_page()
                sizes, state = [], {"done": False}

                def finished(request, sizes=sizes, state=state):
                    if state["done"]:  # only what came before the first result counts
                        return
                    try:
                        s = request.sizes()
                    except Exception:  # the page was closed while the request finished
                        return
                    sizes.append(s["responseBodySize"] + s["responseHeadersSize"])

                page.on("requestfinished", finished)
                page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
                start = time.perf_counter()
                page.keyboard.press("/")
                page.locator(".md-search__input").press_sequentially(QUERY)
                page.wait_for_selector(".md-search-result__item", timeout=60_000)
                times.append(time.perf_counter() - start)
                state["done"] = True
                fetched.append(sum(sizes))
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait()
    return statistics.median(times), statistics.median(fetched)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of papers")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    rows, seconds, cpu = [], {}, {}

    def row(case, metric, value, unit, goal=None, ok=None):
        rows.append(dict(bench="site", case=case, metric=metric, value=value, unit=unit, goal=goal, ok=ok))

    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        for n in sizes:
            atlas = Path(tmp) / f"atlas{n}"
            atlas.mkdir()
            make_atlas(atlas, n, varied=True)
            out = atlas / "site" / "build"
            measured = build(atlas, out)
            seconds[n], cpu[n] = measured["wall"], measured["cpu"]
            case = f"{n} papers"
            big = n == 10000
            row(
                case,
                "build wall",
                measured["wall"],
                "s",
                "<= 60 s" if big else None,
                measured["wall"] <= 60 if big else None,
            )
            row(case, "build CPU", measured["cpu"], "s")
            row(case, "build peak memory", measured["peak_mb"], "MB")
            row(case, "site size", folder_size(out) / 1e6, "MB")
            row(case, "search index (all files)", folder_size(out / "pagefind") / 1e6, "MB")
            row(case, "search vocabulary", folder_size(out / "pagefind" / "vocab") / 1e6, "MB")
            search, fetched = first_search(out)
            row(case, "first search result", search, "s", "<= 1 s" if big else None, search <= 1.0 if big else None)
            row(
                case,
                "fetched before 1st result",
                fetched / 1e6,
                "MB",
                "<= 2 MB" if big else None,
                fetched <= 2e6 if big else None,
            )
            shutil.rmtree(atlas)
    if 1000 in seconds and 10000 in seconds:
        ratio = seconds[10000] / seconds[1000]
        row("10k / 1k", "build wall ratio", ratio, "x", "<= 11 (linear)", ratio <= 11)
        ratio = cpu[10000] / cpu[1000]
        row("10k / 1k", "build CPU ratio", ratio, "x", "<= 11 (linear)", ratio <= 11)
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"{r['case']:>12}  {r['metric']:<20} {r['value']:10.3f} {r['unit']:<3} {r['goal'] or ''}")


if __name__ == "__main__":
    main()
