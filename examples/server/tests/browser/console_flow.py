"""Drives the web console of a running server in headless Chromium as three people and reports what each saw, as
one JSON line; the Rust test (`tests/browser.rs`) seeds the server and judges the report.

- A viewer signs in, sees the pending high-risk run without an Approve button, and forges a POST with their own
  session's CSRF token: the engine refuses it (a viewer may not decide).
- A manager signs in; a POST of theirs without the page's CSRF token is refused; they approve the run with a comment (the viewer's open page drops it without a reload), opens its page and sees it complete (the page follows the
  run's events), then opens the runs list, the costs page (the chart must draw segments) and the schedules.
- An administrator opens the webhooks page.

Every page is saved as a screenshot in SCREENSHOT_DIR; every Content-Security-Policy violation, page error and
request off the server's origin is reported.

Usage: python console_flow.py BASE_URL SCREENSHOT_DIR SEED_JSON
(SEED_JSON: tenant, password, viewer, manager, admin, approval_id, run_id, project_id, task)
"""
import json
import os
import sys

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => {
    window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || '(inline)'));
});
"""


class Person:
    """One browser context (its own cookies) signed in as one user."""

    def __init__(self, browser, base, seed, email, shots, trouble):
        self.base, self.shots, self.trouble = base, shots, trouble
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.page.on("request", self.record_request)
        self.page.on("response", self.record_failure)
        self.page.on("console", lambda m: trouble["errors"].append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: trouble["errors"].append(str(error)))
        # Any page sends an unsigned visitor to sign in, and back to it afterwards.
        self.page.goto(f"{base}/console/approvals")
        self.page.fill("#tenant", seed["tenant"])
        self.page.fill("#email", email)
        self.page.fill("#password", seed["password"])
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        self.signed_in_at = self.page.url

    def record_request(self, request):
        if not request.url.startswith((f"{self.base}/", "data:")):
            self.trouble["foreign_requests"].append(request.url)

    def record_failure(self, response):
        # A page whose own parts (script, style, icon, event stream) fail to load is broken even when it shows.
        if response.status >= 400 and response.request.resource_type != "document":
            self.trouble["failed_loads"].append(f"{response.status} {response.url}")

    def visit(self, path):
        self.page.goto(f"{self.base}{path}", wait_until="networkidle")
        self.note_violations()

    def note_violations(self):
        self.trouble["csp_violations"].extend(self.page.evaluate("window.__violations || []"))

    def shoot(self, name):
        self.page.screenshot(path=os.path.join(self.shots, name), full_page=True)

    def focused(self):
        """The focused element: its tag, then its name, accessible text or link target."""
        return self.page.evaluate(
            "(() => { const e = document.activeElement;"
            " return e.tagName + ' ' + (e.getAttribute('name') || e.innerText || e.getAttribute('href') || '')"
            ".replace(/\\s+/g, ' ').trim(); })()"
        )

    def tab(self):
        self.page.keyboard.press("Tab")
        return self.focused()

    def post(self, path, form):
        """A POST made outside the page's forms, with this person's cookies: the way a forgery would arrive."""
        return self.context.request.post(f"{self.base}{path}", form=form, max_redirects=0).status


def main() -> None:
    base, shots, seed = sys.argv[1].rstrip("/"), sys.argv[2], json.loads(sys.argv[3])
    os.makedirs(shots, exist_ok=True)
    trouble = {"errors": [], "csp_violations": [], "foreign_requests": [], "failed_loads": []}
    report = {}
    decide = f"/console/approvals/{seed['approval_id']}/approve"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")

        viewer = Person(browser, base, seed, seed["viewer"], shots, trouble)
        report["viewer_landed_on"] = viewer.signed_in_at.removeprefix(base)
        viewer.visit("/console/approvals")
        report["viewer_sees_task"] = seed["task"] in viewer.page.content()
        report["viewer_approve_buttons"] = viewer.page.get_by_role("button", name="Approve").count()
        viewer.shoot("console-approvals-viewer.png")
        token = viewer.page.locator("input[name=csrf]").first.input_value()
        report["viewer_forged_with_token"] = viewer.post(decide, {"csrf": token, "comment": "forged"})

        manager = Person(browser, base, seed, seed["manager"], shots, trouble)
        manager.visit("/console/approvals")
        card = manager.page.locator("article.approval", has_text=seed["task"])
        report["manager_cards"] = card.count()
        report["manager_card"] = card.inner_text()
        # Even one who may approve is refused without the page's token (a request another site could make).
        report["manager_forged_without_token"] = manager.post(decide, {"comment": "forged"})
        manager.shoot("console-approvals.png")
        # By keyboard alone: the first Tab stop is the skip link; Tab on to the comment, type, Tab to Approve, Enter.
        report["first_tab_stop"] = manager.tab()
        stops = [manager.tab() for _ in range(40)]
        report["comment_reached_by_tab"] = "TEXTAREA comment" in stops
        for _ in range(80):
            if manager.focused() == "TEXTAREA comment":
                break
            manager.tab()
        manager.page.keyboard.type("Reviewed the plan: go ahead.")
        report["after_comment_tab"] = manager.tab()
        with manager.page.expect_navigation():
            manager.page.keyboard.press("Enter")
        report["after_approval"] = manager.page.url.removeprefix(base)
        report["nothing_waiting"] = manager.page.get_by_text("Nothing is waiting.").count() == 1
        # The viewer's page, open all along and never reloaded, follows the decision through the event stream.
        try:
            viewer.page.get_by_text("Nothing is waiting.").wait_for(timeout=15_000)
            report["viewer_page_updated_live"] = True
        except PlaywrightTimeout:
            report["viewer_page_updated_live"] = False

        manager.visit(f"/console/runs/{seed['run_id']}")
        # The page follows the run: no reload, its summary is swapped in when the run's events arrive.
        summary = manager.page.locator("section[aria-labelledby=summary-heading]")
        summary.locator(".status-completed").wait_for(timeout=60_000)
        report["run_status_seen"] = summary.locator(".status").first.inner_text()
        report["run_answer_shown"] = manager.page.locator(".answer").count() > 0
        manager.shoot("console-run.png")

        manager.visit("/console/runs")
        report["runs_listed"] = manager.page.locator("tbody tr").count()
        manager.shoot("console-runs.png")

        manager.visit(f"/console/costs?project={seed['project_id']}&days=7")
        report["chart_segments"] = manager.page.locator("svg.chart rect").count()
        report["chart_name"] = manager.page.locator("svg.chart title").first.text_content()
        report["legend"] = manager.page.locator("ul.legend li").all_inner_texts()
        box = manager.page.locator("svg.chart").bounding_box()
        report["chart_drawn_px"] = [round(box["width"]), round(box["height"])] if box else None
        manager.shoot("console-costs.png")

        manager.visit("/console/schedules")
        report["schedules_listed"] = manager.page.locator("article.card").count()
        manager.shoot("console-schedules.png")

        admin = Person(browser, base, seed, seed["admin"], shots, trouble)
        admin.visit("/console/webhooks")
        report["webhooks_listed"] = admin.page.locator("article.card").count()
        report["webhook_health"] = admin.page.locator("article.card dd .status").first.inner_text()
        admin.shoot("console-webhooks.png")

        for person in (viewer, manager, admin):
            person.note_violations()
        browser.close()
    trouble["csp_violations"] = sorted(set(trouble["csp_violations"]))
    report.update(trouble)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
