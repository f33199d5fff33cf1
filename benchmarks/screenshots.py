"""A screenshot of every page of the web app at desktop (1280 px) and phone (390 px) width.

Run: python benchmarks/screenshots.py [OUT_DIR] (default: ./screenshots, not committed)

Starts the app on a free local port with a throw-away saved-builds database, drives the system's
Chromium through Playwright (``pip install playwright``; Debian: ``apt-get install chromium``;
set DLRIG_CHROMIUM to use another binary), and writes ``<page>-desktop.png`` and
``<page>-phone.png``. The check and cost pages are shown after submitting the Warmachine; the
editor with the Warmachine loaded part by part from a saved build.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WIDTHS = {"desktop": 1280, "phone": 390}
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    """The system Chromium ($DLRIG_CHROMIUM, else the usual Debian paths), or None."""
    env = os.environ.get("DLRIG_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    return next((p for p in CHROMIUM_PATHS if Path(p).exists()), None)


def serve(db: Path) -> tuple[str, object]:
    """Start the app on a free port in a thread; returns its base URL and the server."""
    import uvicorn

    from dlrig.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(db_path=db), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the web app did not start within 20 s")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def pages(base: str, token: str, planner: bool) -> dict[str, str]:
    out = {
        "home": "/",
        "catalog": "/catalog?category=gpu",
        "catalog-search": "/catalog?q=rtx+4090",
        "part": "/parts/asus-turbo-rtx-2080ti",
        "check": "/check",
        "size": "/size?model=llama-3.1-8b&task=qlora&gpu=RTX+4090",
        "cost": "/cost",
        "build-empty": "/build",
        "build": f"/build?from={token}&category=gpu",
        "saved": f"/b/{token}",
        "saved-cost": f"/b/{token}/cost?hours_per_day=8",
        "power": "/power",
        "import-list": "/import-list",
    }
    if planner:
        out["plan"] = "/plan?budget_usd=7000"
    return {k: base + v for k, v in out.items()}


def main(out_dir: str = "screenshots") -> None:
    from playwright.sync_api import sync_playwright

    from dlrig.app.plan import planner_available

    exe = chromium_path()
    if exe is None:
        raise SystemExit("no Chromium found: apt-get install chromium (or set DLRIG_CHROMIUM)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base, server = serve(Path(tmp) / "builds.sqlite")
        import httpx

        text = (REPO / "examples" / "warmachine.yaml").read_text(encoding="utf-8")
        token = httpx.post(f"{base}/api/builds", json={"build": text}).json()["token"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            for width_name, width in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": 900})
                for name, url in pages(base, token, planner_available()).items():
                    page.goto(url)
                    if name in ("check", "cost"):
                        page.locator("form.editor button[type=submit]").first.click()
                        page.wait_for_load_state()
                    path = out / f"{name}-{width_name}.png"
                    page.screenshot(path=str(path), full_page=True)
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    flag = "  (scrolls sideways!)" if wide > width else ""
                    print(f"{path}  page width {wide}px{flag}")
                page.close()
            browser.close()
        server.should_exit = True  # type: ignore[attr-defined]


if __name__ == "__main__":
    main(*sys.argv[1:2])
