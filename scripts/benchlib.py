"""What the harnesses that drive the reference server from outside share (scripts/run-path-bench, scripts/soak):
building the binaries, starting and stopping processes, scratch databases, a server's environment and its
limits file. The standard library only."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "agk_runpathbench0123456789abcdefghijklmno"
WEBHOOK_KEY = "cnVuLXBhdGgtYmVuY2gta2V5LTAxMjM0NTY3ODlhYmM="
ADMIN_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


def logger(name):
    def log(message):
        print(f"{name}: {message}", file=sys.stderr, flush=True)
    return log


def binaries(profile, log):
    """Builds (unless NO_BUILD is set) and returns the paths of agentic-server and mock-upstream."""
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    if not os.environ.get("NO_BUILD"):
        log(f"building agentic-server and mock-upstream ({profile})")
        flags = ["--release"] if profile == "release" else []
        subprocess.run(
            ["cargo", "build", *flags, "--quiet", "-p", "agentic-server", "--bin", "agentic-server",
             "-p", "agentic-benches", "--bin", "mock-upstream"],
            cwd=ROOT, check=True)
    out = os.path.join(target, "release" if profile == "release" else "debug")
    return os.path.join(out, "agentic-server"), os.path.join(out, "mock-upstream")


def start(command, env, prefix):
    """Starts a process and returns it with the address its `<prefix><addr>` stdout line names."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    for line in process.stdout:
        if line.startswith(prefix):
            return process, line[len(prefix):].strip()
        if time.time() > deadline:
            break
    process.kill()
    raise SystemExit(f"{command[0]} did not print `{prefix}…`")


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def call(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {KEY}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def database_url(name):
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def write_limits_file(path):
    """Rate limits too high to refuse: every check still runs."""
    lots = "100000000/minute"
    with open(path, "w") as f:
        f.write(f'[rate_limits]\nper_ip = "{lots}"\nper_principal = "{lots}"\n'
                f'[rate_limits.plans]\nfree = "{lots}"\ndeveloper = "{lots}"\nenterprise = "{lots}"\n'
                f'[[rate_limits.routes]]\nroute = "POST /v1/agents/{{name}}/execute"\nlimit = "{lots}"\n'
                f'[[rate_limits.routes]]\nroute = "POST /v1/workflows"\nlimit = "{lots}"\n')


class Server:
    """The reference server on the memory store or on PostgreSQL + Redis (a scratch database, migrated by the
    server), its defaults but for the mock upstream, the limits file and `extra` arguments."""

    def __init__(self, server_bin, upstream, store, limits_file, extra=(), env_extra=None):
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith(("AGENTIC_", "OPENAI_", "ANTHROPIC_", "OLLAMA_"))
                       or k in ("DATABASE_URL", "REDIS_URL"))}
        env.update({
            "AGENTIC_BIND": "127.0.0.1:0",
            "AGENTIC_METRICS_BIND": "off",
            "AGENTIC_BOOTSTRAP_API_KEY": KEY,
            "AGENTIC_CONFIG": limits_file,
            "AGENTIC_LOG": "warn",
            "OPENAI_BASE_URL": f"http://{upstream}/v1",
            "OPENAI_API_KEY": "bench",
            "AGENTIC_LLM_DEFAULT_PROVIDER": "openai",
        })
        env.update(env_extra or {})
        self.store = store
        self.database = None
        if store == "postgres":
            self.database = f"agentic_{store}_{os.getpid()}_{int(time.time())}"
            psql(ADMIN_URL, f'CREATE DATABASE "{self.database}"')
            env.update({"DATABASE_URL": database_url(self.database), "AGENTIC_DB_MIGRATE": "true",
                        "REDIS_URL": REDIS_URL, "AGENTIC_WEBHOOK_SECRET_KEY": WEBHOOK_KEY})
            subprocess.run(["redis-cli", "-u", REDIS_URL, "FLUSHALL"], check=True, stdout=subprocess.DEVNULL)
        try:
            self.process, addr = start([server_bin, *extra], env, "agentic-server listening on http://")
        except BaseException:
            self.drop_database()
            raise
        self.base = f"http://{addr}"
        self.addr = addr

    def stop(self):
        stop(self.process)
        self.drop_database()

    def drop_database(self):
        if self.database:
            psql(ADMIN_URL, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.database = None
