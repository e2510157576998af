#!/usr/bin/env python3
"""Drive pgque serve's dashboard in a real headless Chromium through
chromedriver's WebDriver protocol (HTTP + JSON, no client library):

  dashboard_ui.py WEBDRIVER_URL PAGE_URL QUEUE DEAD_LETTER_ID

Opens the page, waits for QUEUE's row and prints it, opens the queue's dead
letters, waits for DEAD_LETTER_ID's row and clicks its replay button, then
waits for the row to go. Prints one "key: value" line per step; the test
(test/scripts/http_dashboard.sh) checks them against the database."""
import json
import sys
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriver:
    def __init__(self, url):
        self.url = url.rstrip("/")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium",
                                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                            "--disable-dev-shm-usage", "--window-size=1280,900"]}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                return json.load(res)["value"]
        except urllib.error.HTTPError as e:
            raise LookupError(e.read().decode(errors="replace")) from None

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def find(self, css, wait=20.0):
        end = time.monotonic() + wait
        while True:
            try:
                return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]
            except LookupError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)

    def gone(self, css, wait=20.0):
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if not self.s("POST", "/elements", {"using": "css selector", "value": css}):
                return True
            time.sleep(0.2)
        return False

    def text(self, element):
        return self.s("GET", f"/element/{element}/text")

    def click(self, element):
        self.s("POST", f"/element/{element}/click", {})

    def quit(self):
        self.call("DELETE", f"/session/{self.session}")


def main():
    webdriver_url, page, queue, dead_id = sys.argv[1:5]
    wd = WebDriver(webdriver_url)
    try:
        wd.s("POST", "/url", {"url": page})
        row = wd.find(f'[id="queue-{queue}"]')
        print("queue_row:", " ".join(wd.text(row).split()))
        print("title:", wd.s("GET", "/title"))
        status = wd.find("#status tbody tr")
        print("status_row:", " ".join(wd.text(status).split()))
        wd.click(wd.find(f'button[data-queue="{queue}"]'))
        dead = wd.find(f'[id="dead-{dead_id}"]')
        print("dead_row:", " ".join(wd.text(dead).split()))
        wd.click(wd.find(f'button[data-replay-id="{dead_id}"]'))
        print("dead_row_gone:", wd.gone(f'[id="dead-{dead_id}"]'))
        print("error_shown:", wd.text(wd.find("#error")) or "-")
    finally:
        wd.quit()


if __name__ == "__main__":
    main()
