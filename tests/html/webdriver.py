"""A small client of the W3C WebDriver protocol for headless Chromium through chromedriver
(Debian's chromium and chromium-driver packages), with the Python 3 standard library only.

Used by tests/html/html_test.py and bench/html_load.py:

    with Browser(work_dir) as b:
        b.open(path)                     # a local file
        b.js("return document.title")   # runs a script in the page
        b.screenshot(png_path)
        b.console()                      # the page's console messages
        b.requests()                     # the URLs the page asked the network layer for
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


class BrowserError(Exception):
    pass


def find_browser():
    """(chromium, chromedriver) paths, or a BrowserError that says what to install."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        raise BrowserError("headless Chromium is needed: install the Debian packages chromium and "
                           "chromium-driver (scripts/deps.sh does)")
    return chromium, driver


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, work, width=1440, height=900):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.width, self.height = width, height
        self.driver = None
        self.session = None

    def __enter__(self):
        chromium, driver = find_browser()
        self.port = free_port()
        self.log = open(self.work / "chromedriver.log", "wb")
        self.driver = subprocess.Popen([driver, f"--port={self.port}"], stdout=self.log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self._call("GET", "/status")["value"].get("ready"):
                    break
            except (OSError, BrowserError):
                pass
            if self.driver.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise BrowserError(f"chromedriver did not start (see {self.work}/chromedriver.log)")
            time.sleep(0.05)
        profile = self.work / "profile"
        shutil.rmtree(profile, ignore_errors=True)
        caps = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         "--disable-background-networking", "--disable-extensions",
                         "--disable-component-update", "--disable-default-apps",
                         "--disable-sync", "--metrics-recording-only", "--mute-audio",
                         f"--user-data-dir={profile}",
                         f"--window-size={self.width},{self.height}"],
                "perfLoggingPrefs": {"enableNetwork": True, "enablePage": False},
            },
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
        }
        try:
            r = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}}, timeout=60)
        except BrowserError:
            self.close()
            raise
        self.session = r["value"]["sessionId"]
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.session:
            try:
                self._call("DELETE", f"/session/{self.session}")
            except (OSError, BrowserError):
                pass
            self.session = None
        if self.driver:
            if self.driver.poll() is None:
                self.driver.terminate()
                try:
                    self.driver.wait(10)
                except subprocess.TimeoutExpired:
                    self.driver.kill()
                    self.driver.wait()
            self.driver = None
            self.log.close()

    def _call(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            try:
                v = json.loads(detail)["value"]
                detail = f"{v.get('error')}: {v.get('message', '')[:2000]}"
            except (ValueError, KeyError, TypeError):
                pass
            raise BrowserError(f"WebDriver {method} {path}: {detail}")

    def cmd(self, method, what, body=None, timeout=30):
        return self._call(method, f"/session/{self.session}{what}", body, timeout)["value"]

    def open(self, path, timeout=60):
        """Loads a local file and waits until its load event."""
        url = Path(path).resolve().as_uri()
        self.cmd("POST", "/url", {"url": url}, timeout=timeout)
        return url

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def cdp(self, cmd, params=None):
        """A Chrome DevTools Protocol command (chromedriver's extension)."""
        return self.cmd("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params or {}})

    def screenshot(self, png, full=True):
        """Saves a PNG of the viewport, or (full) of the whole page through DevTools."""
        if not full:
            Path(png).write_bytes(base64.b64decode(self.cmd("GET", "/screenshot")))
            return
        size = self.cdp("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.cdp("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                     "scale": 1}})
        Path(png).write_bytes(base64.b64decode(shot["data"]))

    def _log(self, kind):
        return self.cmd("POST", "/se/log", {"type": kind})

    def console(self):
        """The console messages since the last call: [(level, message)]."""
        return [(e["level"], e["message"]) for e in self._log("browser")]

    def requests(self, document=None):
        """The URLs the network layer was asked for since the last call (from DevTools'
        Network.requestWillBeSent events in chromedriver's performance log); with document,
        only those made for that page (the browser's own pages make requests too)."""
        urls = []
        for e in self._log("performance"):
            msg = json.loads(e["message"])["message"]
            if msg.get("method") != "Network.requestWillBeSent":
                continue
            p = msg["params"]
            if document is None or p.get("documentURL") == document:
                urls.append(p["request"]["url"])
        return urls


class Firefox:
    """Headless Firefox through its built-in Marionette server (no geckodriver needed: Debian
    12 does not package it). The same js/open/screenshot calls as Browser.

    Marionette's wire format: "LENGTH:JSON"; a command is [0, id, name, params], its answer
    [1, id, error, result]."""

    def __init__(self, work, width=1440, height=900):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.width, self.height = width, height
        self.proc = None
        self.sock = None
        self.next_id = 0

    def __enter__(self):
        firefox = shutil.which("firefox-esr") or shutil.which("firefox")
        if not firefox:
            raise BrowserError("Firefox is needed: install the Debian package firefox-esr "
                               "(scripts/deps.sh does)")
        profile = self.work / "ff-profile"
        shutil.rmtree(profile, ignore_errors=True)
        profile.mkdir()
        self.port = free_port()
        # No update checks, telemetry or other background requests, and Marionette on our port.
        (profile / "user.js").write_text("\n".join(
            f'user_pref("{k}", {json.dumps(v)});' for k, v in {
                "marionette.port": self.port, "app.update.enabled": False,
                "app.update.auto": False, "browser.shell.checkDefaultBrowser": False,
                "datareporting.policy.dataSubmissionEnabled": False,
                "toolkit.telemetry.enabled": False, "browser.startup.page": 0,
                "network.captive-portal-service.enabled": False,
                "browser.safebrowsing.update.enabled": False,
                "extensions.update.enabled": False, "browser.newtabpage.enabled": False,
            }.items()) + "\n")
        self.log = open(self.work / "firefox.log", "wb")
        env = dict(os.environ, MOZ_HEADLESS="1", MOZ_HEADLESS_WIDTH=str(self.width),
                   MOZ_HEADLESS_HEIGHT=str(self.height))
        self.proc = subprocess.Popen([firefox, "--headless", "--marionette", "--no-remote",
                                      "--profile", str(profile), "about:blank"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
                self._read()  # the server's hello
                break
            except OSError:
                self.sock = None
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise BrowserError(f"Firefox's Marionette did not start (see "
                                       f"{self.work}/firefox.log)")
                time.sleep(0.2)
        self._cmd("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {
            "acceptInsecureCerts": True}}})
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.sock:
            try:
                self._cmd("Marionette:Quit", {"flags": ["eForceQuit"]})
            except (OSError, BrowserError, ValueError):
                pass
            self.sock.close()
            self.sock = None
        if self.proc:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
            self.proc = None
            self.log.close()

    def _read(self):
        n = b""
        while not n.endswith(b":"):
            c = self.sock.recv(1)
            if not c:
                raise BrowserError("Marionette closed the connection")
            n += c
        size, data = int(n[:-1]), b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise BrowserError("Marionette closed the connection")
            data += chunk
        return json.loads(data)

    def _cmd(self, name, params):
        self.next_id += 1
        msg = json.dumps([0, self.next_id, name, params]).encode()
        self.sock.sendall(str(len(msg)).encode() + b":" + msg)
        while True:
            r = self._read()
            if isinstance(r, list) and r[0] == 1 and r[1] == self.next_id:
                break
        if r[2]:
            raise BrowserError(f"Marionette {name}: {r[2].get('error')}: "
                               f"{r[2].get('message', '')[:2000]}")
        return r[3]

    def open(self, path, timeout=60):
        url = Path(path).resolve().as_uri()
        self._cmd("WebDriver:Navigate", {"url": url})
        return url

    def js(self, script, *args):
        return self._cmd("WebDriver:ExecuteScript", {"script": script, "args": list(args)})["value"]

    def screenshot(self, png):
        data = self._cmd("WebDriver:TakeScreenshot", {"full": True, "hash": False})["value"]
        Path(png).write_bytes(base64.b64decode(data))
