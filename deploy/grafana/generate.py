#!/usr/bin/env python3
"""Writes the four Grafana dashboards (deploy/grafana/dashboards/*.json) from the definitions below.

Edit the definitions and run `python3 deploy/grafana/generate.py`; `--check` exits non-zero when a committed file
differs from what the definitions make (the tests run it). Every PromQL expression here is parsed by promtool and
checked against the metrics a loaded server exports (examples/server/tests/observability.rs).
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def target(expr, legend="", ref="A"):
    return {"refId": ref, "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}


def panel(kind, title, targets, unit="short", width=12, height=8, description=""):
    if isinstance(targets, str):
        targets = [target(targets)]
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "gridPos": {"w": width, "h": height},
    }


def stat(title, expr, unit="short", description=""):
    return panel("stat", title, expr, unit, width=6, height=4, description=description)


def series(title, targets, unit="short", description="", width=12):
    return panel("timeseries", title, targets, unit, width=width, description=description)


def bars(title, expr, legend, unit="short", description=""):
    return panel("bargauge", title, [target(expr, legend)], unit, description=description)


def layout(panels):
    """Places panels left to right, wrapping at Grafana's 24 columns."""
    x = y = row_height = 0
    for number, p in enumerate(panels, start=1):
        if x + p["gridPos"]["w"] > 24:
            x, y, row_height = 0, y + row_height, 0
        p["id"] = number
        p["gridPos"].update({"x": x, "y": y})
        x += p["gridPos"]["w"]
        row_height = max(row_height, p["gridPos"]["h"])
    return panels


def dashboard(uid, title, description, panels, variables=()):
    datasource = {
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
    }
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["agentic"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [datasource, *variables]},
        "annotations": {"list": []},
        "links": [{"type": "dashboards", "tags": ["agentic"], "title": "agentic", "asDropdown": True}],
        "panels": layout(panels),
    }


RATE = "$__rate_interval"


def quantile(q, metric, by):
    return f"histogram_quantile({q}, sum by ({by}le) (rate({metric}_bucket[{RATE}])))"


SYSTEM = dashboard(
    "agentic-overview",
    "agentic / System overview",
    "Runs, agents, requests and deliveries across every replica.",
    [
        stat("Active workflows", 'sum(max by (status) (runs{kind="workflow",status=~"queued|awaiting_approval|running"}))'),
        stat("Active agent runs", 'sum(max by (status) (runs{kind="agent",status=~"queued|awaiting_approval|running"}))'),
        stat("Active users (24 h)", "max(active_users)", description="Users who requested a run in the last 24 hours."),
        stat(
            "Agent success rate (5 m)",
            'sum(rate(agent_executions_total{status="completed"}[5m])) / sum(rate(agent_executions_total[5m]))',
            "percentunit",
        ),
        series("Agent executions / s", [target(f"sum by (agent_name) (rate(agent_executions_total[{RATE}]))", "{{agent_name}}")], "ops"),
        series(
            "Agent execution time",
            [
                target(quantile(0.5, "agent_execution_duration_seconds", ""), "p50"),
                target(quantile(0.95, "agent_execution_duration_seconds", ""), "p95", "B"),
            ],
            "s",
        ),
        series("Runs by status", [target("max by (kind, status) (runs)", "{{kind}} {{status}}")]),
        series(
            "Oldest queued run",
            [target("max(oldest_queued_run_age_seconds)", "waited")],
            "s",
            "How long the oldest queued run has waited for a worker (alert: RunsStuckQueued).",
        ),
        series("Workflow runs ended / s", [target(f"sum by (workflow, status) (rate(workflow_executions_total[{RATE}]))", "{{workflow}} {{status}}")], "ops"),
        series("Workflow duration p95", [target(quantile(0.95, "workflow_duration_seconds", "workflow, "), "{{workflow}}")], "s"),
        series("HTTP requests / s by status", [target(f"sum by (status) (rate(http_requests_total[{RATE}]))", "{{status}}")], "reqps"),
        series("HTTP p95 latency by route", [target(quantile(0.95, "http_request_duration_seconds", "route, "), "{{route}}")], "s"),
        series("Schedule fires / s", [target(f"sum by (result) (rate(schedule_fires_total[{RATE}]))", "{{result}}")], "ops"),
        series(
            "Webhook deliveries",
            [
                target(f"sum by (status) (rate(webhook_deliveries_total[{RATE}]))", "{{status}} / s"),
                target("max(webhook_deliveries_pending)", "pending", "B"),
            ],
        ),
        series("Run lease takeovers", [target(f"sum(increase(run_lease_takeovers_total[{RATE}]))", "taken over")]),
        series("Rate-limiter backend errors / s", [target(f"sum(rate(rate_limit_backend_errors_total[{RATE}]))", "errors")], "ops"),
    ],
)

COSTS = dashboard(
    "agentic-costs",
    "agentic / Cost analysis",
    "LLM spending by period, project, agent, provider and model, and projects' budgets.",
    [
        stat("Spend, last 24 h", "sum(increase(llm_cost_usd_total[1d]))", "currencyUSD"),
        stat("Spend, last 7 days", "sum(increase(llm_cost_usd_total[7d]))", "currencyUSD"),
        stat("Spend, last 30 days", "sum(increase(llm_cost_usd_total[30d]))", "currencyUSD"),
        stat("Spend in the range", "sum(increase(llm_cost_usd_total[$__range]))", "currencyUSD"),
        series("Spend per day by provider", [target("sum by (provider) (increase(llm_cost_usd_total[1d]))", "{{provider}}")], "currencyUSD", width=24),
        bars("Spend by project (top 10)", "topk(10, max by (project_id) (project_cost_usd))", "{{project_id}}", "currencyUSD"),
        bars(
            "Budget utilisation (top 10)",
            "topk(10, agentic:project_budget_utilisation:ratio)",
            "{{project_id}}",
            "percentunit",
            "Spending over budget (alerts: ProjectBudgetNearlySpent at 90%, ProjectBudgetExhausted at 100%).",
        ),
        bars("Spend by agent in the range", "sum by (agent_name) (increase(agent_cost_usd_total[$__range]))", "{{agent_name}}", "currencyUSD"),
        bars("Spend by model in the range", "sum by (provider, model) (increase(llm_cost_usd_total[$__range]))", "{{provider}} {{model}}", "currencyUSD"),
        series("Tokens / s by type", [target(f"sum by (type) (rate(llm_tokens_total[{RATE}]))", "{{type}}")], width=24),
    ],
)

AGENTS = dashboard(
    "agentic-agents",
    "agentic / Agent performance",
    "Execution time, tokens and errors by agent, and the LLM calls under them.",
    [
        series("Execution time p95 by agent", [target("agentic:agent_execution_duration_seconds:p95_5m", "{{agent_name}}")], "s"),
        series("Execution time p50 by agent", [target(quantile(0.5, "agent_execution_duration_seconds", "agent_name, "), "{{agent_name}}")], "s"),
        series("Error rate by agent", [target("agentic:agent_error_ratio:rate5m", "{{agent_name}}")], "percentunit"),
        bars("Executions by agent and status in the range", "sum by (agent_name, status) (increase(agent_executions_total[$__range]))", "{{agent_name}} {{status}}"),
        series("Spend / h by agent", [target("sum by (agent_name) (increase(agent_cost_usd_total[1h]))", "{{agent_name}}")], "currencyUSD"),
        series("LLM tokens / s by model", [target(f"sum by (model, type) (rate(llm_tokens_total[{RATE}]))", "{{model}} {{type}}")]),
        series("LLM latency p95 by model", [target("agentic:llm_request_duration_seconds:p95_5m", "{{provider}} {{model}}")], "s"),
        series("LLM calls / s by status", [target(f"sum by (provider, status) (rate(llm_calls_total[{RATE}]))", "{{provider}} {{status}}")], "ops"),
        series(
            "RAG retrieval quality (citation scores)",
            [
                target(quantile(0.5, "retrieval_citation_score", ""), "p50", "A"),
                target(quantile(0.1, "retrieval_citation_score", ""), "p10", "B"),
            ],
            "percentunit",
            description="Each citation's retrieval score relative to the best match of its search (1: the best).",
        ),
        series(
            "Knowledge searches and citations",
            [
                target(f"sum by (outcome) (rate(retrieval_queries_total[{RATE}]))", "searches {{outcome}}", "A"),
                target(quantile(0.5, "retrieval_citations_per_answer", ""), "citations per answer p50", "B"),
                target(f"sum(rate(retrieval_citations_dropped_total[{RATE}]))", "dropped citations", "C"),
            ],
            description="Dropped: a marker of no passage, or a quote the cited chunk does not hold.",
        ),
    ],
)

TENANT = {
    "name": "tenant",
    "label": "Tenant",
    "type": "query",
    "datasource": DATASOURCE,
    "query": {"query": "label_values(tenant_http_requests_total, tenant_id)", "refId": "tenants"},
    "definition": "label_values(tenant_http_requests_total, tenant_id)",
    "includeAll": True,
    "multi": True,
    "allValue": ".*",
    "current": {},
    "refresh": 2,
    "hide": 0,
}

TENANTS = dashboard(
    "agentic-tenants",
    "agentic / Multi-tenancy",
    "Tenants' activity, spending and storage (tenant ids beyond AGENTIC_METRICS_TENANT_LABELS are folded into `other`).",
    [
        stat("Tenants", "max(tenants)"),
        stat("Active tenants (24 h)", "max(active_tenants)", description="Tenants with a run created in the last 24 hours."),
        stat("Active users (24 h)", "max(active_users)"),
        stat("Label values folded", "sum(increase(metric_label_values_folded_total[$__range]))", description="Non-zero: a cap is reached."),
        series(
            "Requests / s by tenant (top 10)",
            [target(f'topk(10, sum by (tenant_id) (rate(tenant_http_requests_total{{tenant_id=~"$tenant"}}[{RATE}])))', "{{tenant_id}}")],
            "reqps",
        ),
        bars(
            "Spend by tenant in the range (top 10)",
            'topk(10, sum by (tenant_id) (increase(tenant_cost_usd_total{tenant_id=~"$tenant"}[$__range])))',
            "{{tenant_id}}",
            "currencyUSD",
        ),
        bars("Storage by tenant (top 10)", 'topk(10, max by (tenant_id) (tenant_storage_bytes{tenant_id=~"$tenant"}))', "{{tenant_id}}", "bytes"),
        series("Rate-limit refusals / s by scope", [target(f"sum by (scope) (rate(rate_limit_hits_total[{RATE}]))", "{{scope}}")], "ops"),
        series("Refused credentials / s by reason", [target(f"sum by (reason) (rate(auth_failures_total[{RATE}]))", "{{reason}}")], "ops"),
    ],
    [TENANT],
)

DASHBOARDS = {"system-overview": SYSTEM, "cost-analysis": COSTS, "agent-performance": AGENTS, "multi-tenancy": TENANTS}


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for name, board in DASHBOARDS.items():
        path = HERE / "dashboards" / f"{name}.json"
        text = json.dumps(board, indent=2) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.write_text(text)
    if stale:
        print("out of date (run python3 deploy/grafana/generate.py):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
