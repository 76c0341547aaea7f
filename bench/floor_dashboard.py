"""The floor with 1,000 stations and live events at 20 a second, in Chromium.

Starts a real server (``gameops serve``, its own process, fresh SQLite database), creates N
PC stations, opens the dashboard's floor in headless Chromium (Playwright, Debian's
/usr/bin/chromium), then changes stations through the API at a steady rate (each change a
maintenance switch on another station: its ``STATION_STATUS_CHANGED`` and
``STATION_UPDATED`` events reach the page over /ws/dashboard) and measures in the page:

* change -> paint: from sending the API call to the first animation frame after that
  station's card shows the new status (the clocks are the same machine's); from the API's
  answer (the change committed) to that frame; and from the event's arrival on the page's
  WebSocket to that frame: the page's own share;
* frame time: the intervals between animation frames while the events arrive, and the same
  with no events (the baseline, measured in the same run), plus long tasks (> 50 ms);
* for reference, what one event would cost if the page re-read the whole floor (as it did
  before): ``GET /floor`` for all N stations against the per-station read it now makes.

Usage::

    python bench/floor_dashboard.py                          # 1000 stations, 20/s for 20 s
    python bench/floor_dashboard.py --stations 200 --rate 50 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, async_playwright
from rich.console import Console
from rich.table import Table
from server_process import ADMIN_PASSWORD, start_gameops, wait_healthy, where_measured

console = Console()
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Runs in the page: frame intervals, long tasks, and when each card shows a new status.
PROBE = """
() => {
  const probe = { frames: [], longTasks: 0, longTaskMs: 0, painted: {}, recording: false };
  window.__probe = probe;
  let last = performance.now();
  const frame = (now) => {
    if (probe.recording) probe.frames.push(now - last);
    last = now;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  new PerformanceObserver((list) => {
    for (const task of list.getEntries()) {
      if (!probe.recording) continue;
      probe.longTasks += 1;
      probe.longTaskMs += task.duration;
    }
  }).observe({ entryTypes: ["longtask"] });
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      const card = m.target;
      if (card.dataset.status !== "MAINTENANCE" || probe.painted[card.dataset.stationId]) continue;
      const id = card.dataset.stationId;
      probe.painted[id] = -1;
      requestAnimationFrame(() => { probe.painted[id] = Date.now(); });
    }
  }).observe(document.getElementById("floor"), {
    attributes: true, attributeFilter: ["data-status"], subtree: true,
  });
}
"""


# Runs before the page's own scripts: when each station's maintenance event arrives.
ARRIVALS = """
window.__arrived = {};
const NativeSocket = window.WebSocket;
window.WebSocket = class extends NativeSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (message) => {
      const event = JSON.parse(message.data).event;
      if (event?.type === "STATION_STATUS_CHANGED" && event.data?.to === "MAINTENANCE") {
        window.__arrived[event.station_id] ??= Date.now();
      }
    });
  }
};
"""


async def create_stations(client: httpx.AsyncClient, count: int) -> list[str]:
    ids: list[str] = [""] * count
    gate = asyncio.Semaphore(10)

    async def one(index: int) -> None:
        body = {"name": f"PC-{index:04d}", "type": "PC", "hourly_rate": 600}
        body["zone"] = f"Hall {index // 100 + 1}"
        async with gate:
            response = await client.post("/api/v1/stations", json=body)
        response.raise_for_status()
        ids[index] = response.json()["id"]

    await asyncio.gather(*(one(i) for i in range(count)))
    return ids


def stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(samples)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"n": len(ms), "p50": q[49], "p95": q[94], "p99": q[98], "max": ms[-1]}


async def open_floor(page: Page, base_url: str, count: int) -> None:
    await page.goto(f"{base_url}/login")
    await page.locator('[name="username"]').fill("admin")
    await page.locator('[name="password"]').fill(ADMIN_PASSWORD)
    await page.locator("#login-form [type=submit]").click()
    await page.wait_for_url(f"{base_url}/")
    await page.wait_for_function(f"document.querySelectorAll('.card').length === {count}")
    await page.wait_for_function("document.getElementById('feed-status').dataset.state === 'live'")
    await page.evaluate(PROBE)


async def window(page: Page, seconds: float) -> dict[str, Any]:
    """Record frames and long tasks for `seconds`; returns what the page saw."""
    await page.evaluate(
        "window.__probe.frames = []; window.__probe.longTasks = 0; "
        "window.__probe.longTaskMs = 0; window.__probe.recording = true"
    )
    await asyncio.sleep(seconds)
    seen: dict[str, Any] = await page.evaluate(
        "(() => { window.__probe.recording = false; return window.__probe; })()"
    )
    return seen


async def change_stations(
    client: httpx.AsyncClient, ids: list[str], rate: float, seconds: float
) -> tuple[dict[str, float], dict[str, float]]:
    """Switch stations to maintenance at `rate` a second; returns when each was sent and
    when its answer came (id -> epoch ms)."""
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}

    async def change(station: str) -> None:
        sent[station] = time.time() * 1000
        response = await client.patch(f"/api/v1/stations/{station}", json={"status": "MAINTENANCE"})
        answered[station] = time.time() * 1000
        response.raise_for_status()

    tasks = []
    start = time.monotonic()
    for index in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + index / rate - time.monotonic()))
        tasks.append(asyncio.create_task(change(ids[index % len(ids)])))
    await asyncio.gather(*tasks)
    return sent, answered


async def all_painted(page: Page, count: int, wait_s: float = 15.0) -> dict[str, float]:
    deadline = time.monotonic() + wait_s
    while True:
        painted: dict[str, float] = await page.evaluate("window.__probe.painted")
        done = sum(1 for t in painted.values() if t > 0)
        if done >= count or time.monotonic() > deadline:
            return painted
        await asyncio.sleep(0.2)


async def floor_reads(client: httpx.AsyncClient, one: str, rounds: int = 20) -> dict[str, Any]:
    """What one event costs the page: the whole floor (before) or one station (now)."""
    result: dict[str, Any] = {}
    for name, params in (("whole floor", {}), ("one station", {"station_id": one})):
        times, size = [], 0
        for _ in range(rounds):
            began = time.perf_counter()
            response = await client.get("/api/v1/floor", params=params)
            times.append((time.perf_counter() - began) * 1000)
            size = len(response.content)
        result[name] = {**stats(times), "kb": size / 1024}
    return result


async def bench(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="gameops-floor-bench-"))
    server = start_gameops(args.port, data_dir)
    base_url = f"http://127.0.0.1:{args.port}"
    try:
        await wait_healthy(base_url)
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            login = await client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            console.print(f"creating {args.stations} stations…")
            ids = await create_stations(client, args.stations)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS
                )
                # The probe is evaluated script: let it past the page's CSP (no effect on
                # what is measured).
                context = await browser.new_context(
                    viewport={"width": 1280, "height": 800}, bypass_csp=True
                )
                await context.add_init_script(ARRIVALS)
                page = await context.new_page()
                loaded = time.perf_counter()
                await open_floor(page, base_url, args.stations)
                load_ms = (time.perf_counter() - loaded) * 1000
                console.print("idle baseline…")
                idle = await window(page, args.seconds / 2)
                console.print(f"{args.rate:g} changes a second for {args.seconds:g} s…")
                changing = asyncio.create_task(window(page, args.seconds))
                sent, answered = await change_stations(client, ids, args.rate, args.seconds)
                busy = await changing
                painted = await all_painted(page, len(sent))
                arrived: dict[str, float] = await page.evaluate("window.__arrived")
                await browser.close()
            reads = await floor_reads(client, ids[0])
        lags = {
            "change -> paint": [painted[i] - t for i, t in sent.items() if painted.get(i, -1) > 0],
            "committed -> paint": [
                painted[i] - t for i, t in answered.items() if painted.get(i, -1) > 0
            ],
            "event in the page -> paint": [
                painted[i] - t for i, t in arrived.items() if painted.get(i, -1) > 0
            ],
        }
        report(args, load_ms, idle, busy, lags, len(sent), reads)
    finally:
        server.terminate()
        server.wait(timeout=15)


def report(
    args: argparse.Namespace,
    load_ms: float,
    idle: dict[str, Any],
    busy: dict[str, Any],
    lags: dict[str, list[float]],
    changes: int,
    reads: dict[str, Any],
) -> None:
    table = Table(title=f"floor with {args.stations} stations, {args.rate:g} changes/s")
    for column in ("measure", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column)
    rows = [
        *((name, stats(samples)) for name, samples in lags.items()),
        ("frame time, no events (baseline)", stats(idle["frames"])),
        ("frame time, with events", stats(busy["frames"])),
        *((f"GET /floor: {name} ({r['kb']:.0f} KB)", r) for name, r in reads.items()),
    ]
    for name, s in rows:
        table.add_row(name, str(s["n"]), *(f"{s[k]:.1f}" for k in ("p50", "p95", "p99", "max")))
    console.print(table)
    ratio = stats(busy["frames"])["p95"] / stats(idle["frames"])["p95"]
    whole, one = reads["whole floor"]["p50"], reads["one station"]["p50"]
    console.print(
        f"painted {len(lags['change -> paint'])} of {changes} changes; "
        f"first load of the floor {load_ms:.0f} ms; "
        f"long tasks: {idle['longTasks']} ({idle['longTaskMs']:.0f} ms) idle, "
        f"{busy['longTasks']} ({busy['longTaskMs']:.0f} ms) with events; "
        f"frame p95 ratio events/idle {ratio:.2f}; whole-floor read / one-station read "
        f"{whole / one:.1f}x; {where_measured()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="station changes a second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=8766)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
