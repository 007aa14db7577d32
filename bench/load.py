"""Load benchmark of the staff pages (``make bench``): locust, headless, against a real
``fugai serve`` on the ``city`` demo store.

50 simulated staff (each logged in with its own session) browse the dashboard, the gap
worklist (a county's first pages) and organisation pages. Prints requests/s and the
p50/p95/p99 per page from locust's CSV, checks the target (p95 ≤ 300 ms, no errors)
and writes bench/out/load.json.

Usage: python bench/load.py [--users 50] [--seconds 60] [--store FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGET_P95_MS = 300.0
PAGES = ("dashboard", "worklist", "organisation")

LOCUSTFILE = '''
import os, random
from locust import HttpUser, between, task

ORGS = os.environ["BENCH_ORGS"].split(",")
COUNTY = os.environ["BENCH_COUNTY"]

class Staff(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.client.post("/login", data={"username": "bench", "password": "bench-password-1"},
                         allow_redirects=False, name="login")

    @task(2)
    def dashboard(self):
        self.client.get("/", name="dashboard")

    @task(2)
    def worklist(self):
        self.client.get(f"/gaps?region={COUNTY}&page={random.randint(1, 3)}", name="worklist")

    @task(3)
    def organisation(self):
        self.client.get(f"/orgs/{random.choice(ORGS)}", name="organisation")
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--store", default=str(OUT / "store-city" / "fugai.sqlite"))
    args = parser.parse_args()
    store = Path(args.store)
    if not store.exists():
        raise SystemExit(f"no store at {store}: run bench/run.py --sizes city first")
    work = OUT / "load"
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FUGAI_STORE": str(store), "FUGAI_DATA_DIR": str(work),
           "FUGAI_SECRET_KEY": "bench-secret-key-0123456789abcdef",
           "FUGAI_ACCOUNTS": str(work / "accounts.sqlite"), "FUGAI_PERSON_KEY": "00" * 32}
    (work / "accounts.sqlite").unlink(missing_ok=True)
    fugai = [sys.executable, "-m", "api.cli"]
    subprocess.run([*fugai, "user", "add", "bench", "--role", "analyst", "--password",
                    "bench-password-1"], env=env, cwd=ROOT, check=True, capture_output=True)

    sys.path.insert(0, str(ROOT))
    from graph.embedded import EmbeddedStore
    from graph.facts import build_facts

    facts = build_facts(EmbeddedStore(store).view())
    county = str(facts.orgs["county"].value_counts().index[0])
    orgs = [str(u) for u in facts.orgs.index[:200]]
    del facts

    port = _free_port()
    server = subprocess.Popen([*fugai, "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/api/v1/health", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        # warm: the first query builds the facts snapshot (the nightly cost, not a page's)
        start = time.perf_counter()
        token_req = urllib.request.Request(
            base + "/api/v1/auth/token", data=b"username=bench&password=bench-password-1",
            headers={"Content-Type": "application/x-www-form-urlencoded"}, method="POST")
        with urllib.request.urlopen(token_req, timeout=30) as resp:
            token = json.loads(resp.read())["access_token"]
        urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/summary", headers={"Authorization": f"Bearer {token}"}), timeout=600)
        warm_s = time.perf_counter() - start
        locustfile = work / "locustfile.py"
        locustfile.write_text(LOCUSTFILE, encoding="utf-8")
        prefix = work / "locust"
        subprocess.run([sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
                        "-u", str(args.users), "-r", str(max(1, args.users // 5)),
                        "-t", f"{args.seconds}s", "--host", base, "--csv", str(prefix),
                        "--only-summary"],
                       env={**env, "BENCH_ORGS": ",".join(orgs), "BENCH_COUNTY": county},
                       cwd=work, check=False, capture_output=True)
    finally:
        server.terminate()
        server.wait(timeout=30)

    with (prefix.parent / (prefix.name + "_stats.csv")).open(encoding="utf-8") as fh:
        stats = {row["Name"]: row for row in csv.DictReader(fh)}
    results: dict[str, dict[str, float]] = {}
    print(f"\nLoad: {args.users} users, {args.seconds} s, city store, one `fugai serve` process"
          f" (facts warm-up {warm_s:.1f} s)")
    print("| page         | requests | failures | req/s  | p50 ms | p95 ms | p99 ms |")
    print("|--------------|----------|----------|--------|--------|--------|--------|")
    for name in (*PAGES, "Aggregated"):
        row = stats.get(name)
        if row is None:
            continue
        res = {"requests": float(row["Request Count"]), "failures": float(row["Failure Count"]),
               "rps": float(row["Requests/s"]), "p50": float(row["50%"]),
               "p95": float(row["95%"]), "p99": float(row["99%"])}
        results[name] = res
        ok = "" if name == "Aggregated" else (
            " ✓" if res["p95"] <= TARGET_P95_MS and res["failures"] == 0 else " ✗")
        print(f"| {name:12} | {int(res['requests']):8} | {int(res['failures']):8} |"
              f" {res['rps']:6.1f} | {res['p50']:6.0f} | {res['p95']:6.0f}{ok} | {res['p99']:6.0f} |")
    (OUT / "load.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
