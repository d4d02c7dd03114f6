"""Opens the API docs page of a running server in headless Chromium and reports what happened, as one JSON line:
how many operations it rendered, every URL the page requested that is not on the server's origin, every
Content-Security-Policy violation and every error the page logged. The Rust test (`tests/browser.rs`) judges the
report. Chromium is Debian's, driven by playwright (both installed by scripts/browser-tools).

Usage: python docs_page.py BASE_URL SCREENSHOT.png
"""
import json
import sys

from playwright.sync_api import sync_playwright

# Recorded by the page itself from the start: the browser refuses a load the policy forbids and fires this event.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => {
    window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || '(inline)'));
});
"""


def main() -> None:
    base, screenshot = sys.argv[1].rstrip("/"), sys.argv[2]
    requested, errors = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda request: requested.append(request.url))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto(f"{base}/docs", wait_until="networkidle")
        page.wait_for_selector(".opblock", timeout=30_000)
        report = {
            "title": page.locator(".info .title").first.inner_text(),
            "operations": page.locator(".opblock").count(),
            "foreign_requests": [url for url in requested if not url.startswith((f"{base}/", "data:"))],
            "csp_violations": page.evaluate("window.__violations"),
            "errors": errors,
        }
        page.screenshot(path=screenshot)
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
