"""A real browser on the analyst's desk, run by test_journey.py INSIDE the client container
(vixtract-test/client:trixie): it starts chromedriver and drives headless chromium through the W3C WebDriver
HTTP API (plain JSON over urllib: no selenium package here).

  python3 journey_browser.py SITE_URL SERVER_NAME SERVER_IP USER

SITE_URL is the landing page (https://NAME/); chromium resolves SERVER_NAME to SERVER_IP (--host-resolver-rules),
as the office's DNS would. The password comes from the environment (JOURNEY_PASSWORD). Certificate errors are
NOT ignored: the caller puts the stack's CA into chromium's NSS database first.

The journey: open the landing page, follow its JupyterHub link, log in with the Hub's form, wait for JupyterLab.
Prints one JSON line: {"ok": bool, "steps": [...], "error": str|null, "url": str, "title": str,
"screenshot": base64 PNG of the last page}.
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

DRIVER = "http://127.0.0.1:9515"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(Exception):
    pass


def call(method, path, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(DRIVER + path, data=data, method=method,
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode())["value"]
    except urllib.error.HTTPError as e:
        value = json.loads(e.read().decode() or "{}").get("value", {})
        raise WebDriverError(f"{method} {path}: {value.get('error')}: {value.get('message', '')[:500]}") from None


class Browser:
    def __init__(self, args):
        caps = {"browserName": "chrome", "acceptInsecureCerts": False, "pageLoadStrategy": "normal",
                "timeouts": {"pageLoad": 60000, "script": 30000, "implicit": 0},
                "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}
        self.sid = call("POST", "/session", {"capabilities": {"alwaysMatch": caps}}, timeout=90)["sessionId"]

    def __call__(self, method, path="", body=None, timeout=60):
        return call(method, f"/session/{self.sid}{path}", body, timeout)

    def go(self, url):
        self("POST", "/url", {"url": url}, timeout=90)

    def find(self, css):
        """The element CSS selects, or None (no waiting)."""
        try:
            return self("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]
        except WebDriverError as e:
            if "no such element" in str(e):
                return None
            raise

    def wait_for(self, css, seconds):
        return self.wait_for_any([css], seconds)[1]

    def wait_for_any(self, selectors, seconds):
        """(selector, element) of the first of SELECTORS on the page within SECONDS, or (None, None)."""
        deadline = time.monotonic() + seconds
        while True:
            for css in selectors:
                found = self.find(css)
                if found:
                    return css, found
            if time.monotonic() > deadline:
                return None, None
            time.sleep(0.5)

    def text(self, element):
        return self("GET", f"/element/{element}/text")

    def click(self, element):
        self("POST", f"/element/{element}/click", {})

    def type(self, element, text):
        self("POST", f"/element/{element}/value", {"text": text})

    def url(self):
        return self("GET", "/url")

    def title(self):
        return self("GET", "/title")

    def screenshot(self):
        return self("GET", "/screenshot")

    def quit(self):
        self("DELETE")


def main():
    site, name, ip, user = sys.argv[1:5]
    password = os.environ["JOURNEY_PASSWORD"]
    driver = subprocess.Popen(["chromedriver", "--port=9515"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    result = {"ok": False, "steps": [], "error": None, "url": "", "title": "", "screenshot": ""}
    browser = None
    started = time.monotonic()

    def step(text):
        result["steps"].append(f"{time.monotonic() - started:5.1f}s {text}")

    try:
        for _attempt in range(100):
            try:
                if call("GET", "/status", timeout=2).get("ready"):
                    break
            except OSError:
                pass
            time.sleep(0.1)
        browser = Browser(["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                           "--no-first-run", "--window-size=1366,900", "--lang=en-US",
                           f"--host-resolver-rules=MAP {name} {ip}"])
        step("chromium started")
        browser.go(site)
        step(f"landing page {browser.url()} ({browser.title()!r})")
        link = browser.find("a#link-jupyter")
        if not link:
            # an untrusted certificate shows chromium's interstitial ('Privacy error') instead of the page
            raise AssertionError(f"the landing page has no JupyterHub link (a#link-jupyter): {browser.url()} "
                                 f"({browser.title()!r})")
        browser.click(link)
        username = browser.wait_for("#username_input", 30)
        if not username:
            raise AssertionError(f"no JupyterHub login form after the link: {browser.url()}")
        step(f"login form {browser.url()}")
        browser.type(username, user)
        browser.type(browser.find("#password_input"), password)
        browser.click(browser.find("#login_submit"))
        step("form submitted")
        # the Hub spawns the server (spawn-pending) and sends the browser on to JupyterLab; a refused login
        # stays on the form with the Hub's message
        found, element = browser.wait_for_any(["#jp-main-dock-panel", "p.login_error"], 120)
        if found == "p.login_error":
            raise AssertionError(f"the Hub refused the login: {browser.text(element)!r}")
        if not found:
            raise AssertionError(f"JupyterLab did not appear: {browser.url()} ({browser.title()!r})")
        step(f"JupyterLab shell {browser.url()}")
        # the launcher is the last thing to render: wait for it so the screenshot shows a usable lab
        if browser.wait_for(".jp-Launcher", 30):
            step("launcher rendered")
        for _attempt in range(20):
            if "JupyterLab" in browser.title():
                break
            time.sleep(0.5)
        result["ok"] = True
    except (WebDriverError, AssertionError, OSError) as e:
        result["error"] = f"{type(e).__name__}: {e}"
    finally:
        if browser:
            for key, get in (("url", browser.url), ("title", browser.title), ("screenshot", browser.screenshot)):
                try:
                    result[key] = get()
                except (WebDriverError, OSError):
                    pass
            try:
                browser.quit()
            except (WebDriverError, OSError):
                pass
        driver.terminate()
        driver.wait(10)
    if result["screenshot"]:
        base64.b64decode(result["screenshot"], validate=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
