"""Opens pages in headless Chromium and reports what a person would see and
what the browser complained about, for the report tests (tests/cli/report.rs).

usage: python3 tests/browser.py [--screenshot PNG] [--size 1280x900]
                               [--eval JS] [--media print] URL...

Drives Chromium over the DevTools protocol on a pipe (no port, no network):
each URL is opened in turn, followed through the navigations its script
makes (the lookup moves from page to page), and described in one JSON array
on stdout, one object per URL:

- "final_url": where the page ended up;
- "html": the document as rendered, after its script ran;
- "problems": every console message, script exception, log entry (failed
  resources and CSP violations are log entries) and failed load;
- "requests": the URL of every request the page made;
- "eval": the value of --eval's expression on the page (JSON), if given.

With --screenshot, the first URL is captured at --size into the PNG; with
--media print, pages are laid out as for printing.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("browser.py: no chromium on PATH (apt-get install chromium)")


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="posture-browser-")
        to_chrome = os.pipe()
        from_chrome = os.pipe()

        def pipes():
            # The protocol's pipe: Chromium reads fd 3 and writes fd 4.
            read, write = os.dup(to_chrome[0]), os.dup(from_chrome[1])
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            preexec_fn=pipes,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome[0])
        os.close(from_chrome[1])
        self.out = os.fdopen(to_chrome[1], "wb", buffering=0)
        self.inp = os.fdopen(from_chrome[0], "rb", buffering=0)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def receive(self):
        while b"\0" not in self.buffer:
            chunk = self.inp.read(1 << 16)
            if not chunk:
                sys.exit("browser.py: chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, tolerate=False):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.out.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    if tolerate:
                        return None
                    sys.exit(f"browser.py: {method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_quiet(self, session, first, seconds=0.7, limit=20.0):
        """Waits for the page, and any page its script moves to, to load,
        then for nothing more to happen for `seconds`."""
        start = last = time.monotonic()
        seen = first
        while time.monotonic() - start < limit:
            # A browser-wide call returns at once; events arrive meanwhile.
            self.call("Target.getTargets")
            navigating = [
                e
                for e in self.events[seen:]
                if e.get("sessionId") == session
                and e.get("method")
                in ("Page.loadEventFired", "Page.frameNavigated", "Page.frameStartedLoading")
            ]
            seen = len(self.events)
            if navigating:
                last = time.monotonic()
            if time.monotonic() - last > seconds:
                state = self.call(
                    "Runtime.evaluate",
                    {"expression": "document.readyState", "returnByValue": True},
                    session,
                    tolerate=True,
                )
                if state and state["result"].get("value") == "complete":
                    return
            time.sleep(0.05)
        sys.exit("browser.py: the page did not settle")

    def close(self):
        try:
            self.call("Browser.close")
        except SystemExit:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def problem(event):
    method = event.get("method")
    p = event.get("params", {})
    if method == "Log.entryAdded":
        e = p["entry"]
        return f"log {e.get('level')} ({e.get('source')}): {e.get('text')} {e.get('url', '')}".strip()
    if method == "Runtime.consoleAPICalled":
        args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
        return f"console.{p.get('type')}: {args}"
    if method == "Runtime.exceptionThrown":
        d = p["exceptionDetails"]
        return f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}".strip()
    if method == "Network.loadingFailed":
        return f"failed load ({p.get('type')}): {p.get('errorText')}"
    return None


def visit(browser, url, screenshot=None, size=(1280, 900), expression=None, media=None):
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable", session=session)
    width, height = size
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        session,
    )
    if media:
        browser.call("Emulation.setEmulatedMedia", {"media": media}, session)
    first = len(browser.events)
    navigated = browser.call("Page.navigate", {"url": url}, session)
    problems = []
    if navigated.get("errorText"):
        problems.append(f"navigation: {navigated['errorText']}")
    browser.wait_quiet(session, first)
    final = browser.call(
        "Runtime.evaluate", {"expression": "location.href", "returnByValue": True}, session
    )["result"]["value"]
    html = browser.call(
        "Runtime.evaluate",
        {"expression": "document.documentElement.outerHTML", "returnByValue": True},
        session,
    )["result"]["value"]
    value = None
    if expression:
        value = browser.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session
        )["result"].get("value")
    if screenshot:
        shot = browser.call("Page.captureScreenshot", {"format": "png"}, session)
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    events = [e for e in browser.events[first:] if e.get("sessionId") == session]
    problems += [p for p in map(problem, events) if p]
    requests = [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    browser.call("Target.closeTarget", {"targetId": target})
    return {
        "url": url,
        "final_url": final,
        "html": html,
        "problems": problems,
        "requests": requests,
        "eval": value,
    }


def main(args):
    screenshot, size, expression, media, urls = None, (1280, 900), None, None, []
    while args:
        arg = args.pop(0)
        if arg == "--screenshot":
            screenshot = args.pop(0)
        elif arg == "--eval":
            expression = args.pop(0)
        elif arg == "--media":
            media = args.pop(0)
        elif arg == "--size":
            w, h = args.pop(0).split("x")
            size = (int(w), int(h))
        else:
            urls.append(arg)
    browser = Browser()
    try:
        pages = [
            visit(browser, url, screenshot if i == 0 else None, size, expression, media)
            for i, url in enumerate(urls)
        ]
    finally:
        browser.close()
    json.dump(pages, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
