#!/usr/bin/env python3
"""Drives `inferplan serve`'s page in headless Chromium (Debian's chromium and chromium-driver,
through Selenium's WebDriver client) and checks what it shows against the CLI.

    python3 .ci/browser_test.py --bin target/debug/inferplan [--screenshots docs/img]

Starts the server on a free loopback port, then:
  1. fills the plan form with examples/chat-70b-fp8.toml's values: the top option must be the
     CLI's (`inferplan plan examples/chat-70b-fp8.toml --format json`);
  2. opens that option: the memory bar's table must show `inferplan fit`'s numbers, and the
     latency table `inferplan simulate`'s at the same rates;
  3. pastes a lint fixture: the findings must be `inferplan lint`'s;
  4. follows the shared link in a fresh page: the same form and top option come back;
  5. plans with verification and reads the day view.
With --screenshots DIR, saves a PNG of each view there (docs/img in the repository).
Exits 1 with the first failed check.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent


def fail(msg):
    print(f"browser test: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print(f"browser test: ok: {msg}")


def cli(binary, *args):
    out = subprocess.run([binary, *args, "--format", "json"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        fail(f"inferplan {' '.join(args)} exited {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def fmt(x, digits):
    """The page's number format (en-US grouping, fixed digits)."""
    return f"{x:,.{digits}f}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary):
    port = free_port()
    # A debug build simulates a day in tens of seconds: a generous time limit per request.
    proc = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}", "--timeout-s", "900"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            fail(f"inferplan serve exited {proc.returncode}: {proc.stdout.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    fail("inferplan serve did not listen within 60 s")


def browser(profile_dir):
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile_dir}", "--window-size=1366,1500"]:
        opts.add_argument(flag)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=opts, service=service)


def fill(drv, field_id, value):
    e = drv.find_element(By.ID, field_id)
    if e.tag_name == "select":
        drv.execute_script("arguments[0].value = arguments[1]", e, str(value))
    elif e.get_attribute("type") == "checkbox":
        if e.is_selected() != bool(value):
            e.click()
    else:
        e.clear()
        e.send_keys(str(value))


def fill_from_workload(drv, w):
    m, t, ln, slo, c = w["model"], w["traffic"], w["lengths"], w.get("slo", {}), w.get("constraints", {})
    fill(drv, "f-model", m["name"])
    fill(drv, "f-precision", m.get("precision", "bf16"))
    fill(drv, "f-engines", ",".join(m.get("engines", ["vllm"])))
    fill(drv, "f-rate", t["rate_rps"])
    if "peak_rps" in t:
        fill(drv, "f-peak", t["peak_rps"])
    if "burstiness" in t:
        fill(drv, "f-burstiness", t["burstiness"])
    if "daily_profile" in t:
        fill(drv, "f-profile", ",".join(str(x) for x in t["daily_profile"]))
    for key, mean_id, p99_id in [("input_tokens", "f-in-mean", "f-in-p99"), ("output_tokens", "f-out-mean", "f-out-p99")]:
        v = ln[key]
        fill(drv, mean_id, v["mean"] if isinstance(v, dict) else v)
        if isinstance(v, dict) and "p99" in v:
            fill(drv, p99_id, v["p99"])
    for key, fid in [("ttft_ms", "f-ttft"), ("tpot_ms", "f-tpot"), ("e2e_ms", "f-e2e"), ("deadline_s", "f-deadline")]:
        if key in slo:
            fill(drv, fid, slo[key])
    fill(drv, "f-percentile", slo.get("percentile", "p99"))
    fill(drv, "f-mode", slo.get("mode", "interactive"))
    fill(drv, "f-regions", ",".join(c.get("regions", ["us-east-1"])))
    if c.get("instance_families"):
        fill(drv, "f-families", ",".join(c["instance_families"]))
    if "max_gpus_per_replica" in c:
        fill(drv, "f-max-gpus", c["max_gpus_per_replica"])
    if "weights_source" in c:
        fill(drv, "f-weights", c["weights_source"])
    if "cold_start_budget_s" in c:
        fill(drv, "f-cold", c["cold_start_budget_s"])
    fill(drv, "f-redundancy", c.get("redundancy", False))
    fill(drv, "f-spot", not w.get("pricing", {}).get("allow_spot", True))


def first_row(drv):
    cells = drv.find_elements(By.CSS_SELECTOR, "#options tbody tr:first-child td")
    return [c.text for c in cells]


def wait_rows(drv, timeout):
    WebDriverWait(drv, timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#options tbody tr")
                                      or d.find_element(By.ID, "plan-error").is_displayed())
    if drv.find_element(By.ID, "plan-error").is_displayed():
        fail("the page shows an error: " + drv.find_element(By.ID, "plan-error").text)


def shot(drv, dir_, name):
    if dir_:
        path = Path(dir_) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not drv.save_screenshot(str(path)):
            fail(f"could not save {path}")
        print(f"browser test: screenshot {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "target/debug/inferplan"), help="the inferplan binary")
    ap.add_argument("--screenshots", help="directory to save a PNG of each view in")
    ap.add_argument("--timeout", type=float, default=300, help="seconds to wait for one answer")
    args = ap.parse_args()
    binary = str(Path(args.bin).resolve())
    example = ROOT / "examples/chat-70b-fp8.toml"
    workload = tomllib.loads(example.read_text())
    expected = cli(binary, "plan", str(example))["candidates"][0]

    server, base = start_server(binary)
    profile = tempfile.mkdtemp(prefix="inferplan-chromium-")
    drv = browser(profile)
    try:
        # 1. The plan form.
        drv.get(base + "/")
        check(drv.title == "inferplan", "the page loads from the server")
        fill_from_workload(drv, workload)
        drv.find_element(By.ID, "plan-submit").click()
        wait_rows(drv, args.timeout)
        row = first_row(drv)
        check(row[1] == expected["instance"] and row[5] == expected["engine"]
              and row[6] == str(expected["replicas"]) and row[8] == fmt(expected["usd_per_hour"], 2),
              f"the top option is the CLI's: {expected['replicas']} × {expected['instance']} {expected['engine']} "
              f"${fmt(expected['usd_per_hour'], 2)}/h (page: {row[6]} × {row[1]} {row[5]} ${row[8]}/h)")
        findings = drv.find_elements(By.CSS_SELECTOR, "#findings li")
        check(len(findings) == len(expected["findings"]), f"the option's {len(expected['findings'])} findings are listed")
        shot(drv, args.screenshots, "serve-plan.png")
        # The downloads behind the two buttons: the ADR and the rendered manifests.
        drv.set_script_timeout(args.timeout)
        adr, tar = drv.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const post = (url) => fetch(url, {method: 'POST', headers: {'content-type': 'application/toml'}, body: state.toml});
            Promise.all([
              post('/api/plan?format=md').then(async (r) => [r.status, r.headers.get('content-type'), await r.text()]),
              post('/api/render?archive=tar.gz&candidate=1').then(async (r) => [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength]),
            ]).then(done, (e) => done([[0, String(e), ''], [0, '', 0]]));""")
        check(adr[0] == 200 and adr[1].startswith("text/markdown") and expected["instance"] in adr[2],
              f"the ADR download is the plan's Markdown naming {expected['instance']} ({adr[0]}, {adr[1]})")
        check(tar[0] == 200 and tar[1] == "application/gzip" and tar[2] > 1000,
              f"the manifests download is a tar.gz of the rendered files ({tar[0]}, {tar[1]}, {tar[2]} bytes)")
        share = drv.find_element(By.ID, "share-link").get_attribute("href")

        # 2. One option: memory and latency.
        drv.find_element(By.CSS_SELECTOR, "#options tbody tr:first-child button.pick").click()
        WebDriverWait(drv, args.timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#vram-table tr[data-part]"))
        context = workload["lengths"]["input_tokens"]["p99"] + workload["lengths"]["output_tokens"]["p99"]
        fit = cli(binary, "fit", "--model", workload["model"]["name"], "--precision", expected["precision"],
                  "--kv-dtype", expected["kv_dtype"], "--instance", expected["instance"], "--tp", str(expected["tp"]),
                  "--pp", str(expected["pp"]), "--context", str(context))
        weights = drv.find_element(By.CSS_SELECTOR, '#vram-table tr[data-part="weights"] td:last-child').text
        kv = drv.find_element(By.CSS_SELECTOR, '#vram-table tr[data-part="KV cache (engine)"] td:last-child').text
        check(weights == fmt(fit["weights_gib_per_gpu"], 2) and kv == fmt(fit["engine_kv_cache_gib_per_gpu"], 2),
              f"the memory bar shows fit's weights {fmt(fit['weights_gib_per_gpu'], 2)} GiB and KV cache "
              f"{fmt(fit['engine_kv_cache_gib_per_gpu'], 2)} GiB per GPU (page: {weights}, {kv})")
        WebDriverWait(drv, args.timeout).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#latency-table tr")) > 1
                                               or d.find_element(By.ID, "latency-chart").text not in ("", "Simulating…"))
        if len(drv.find_elements(By.CSS_SELECTOR, "#latency-table tr")) <= 1:
            fail("the latency chart shows: " + drv.find_element(By.ID, "latency-chart").text)
        lat = drv.find_elements(By.CSS_SELECTOR, "#latency-table tr")[1].find_elements(By.TAG_NAME, "td")
        # The page's first point: the workload at a quarter of the capacity, one replica.
        toml, flags = drv.execute_script(
            "const c = state.plan.candidates[0];"
            "return [curveWorkload(formValues(), c.max_rps_per_replica * LOAD_FACTORS[0]), curveQuery(c).toString()];")
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(toml)
        args_ = [f"--{k}={v}" for k, v in urllib.parse.parse_qsl(flags)]
        sim = cli(binary, "simulate", "--workload", f.name, *args_)
        os.unlink(f.name)
        check(lat[1].text == fmt(sim["ttft_ms"]["p99"], 0) and lat[2].text == fmt(sim["tpot_ms"]["p99"], 1),
              f"the latency curve's first point is simulate's TTFT p99 {fmt(sim['ttft_ms']['p99'], 0)} ms and TPOT p99 "
              f"{fmt(sim['tpot_ms']['p99'], 1)} ms (page: {lat[1].text}, {lat[2].text})")
        check(len(drv.find_elements(By.CSS_SELECTOR, "#latency-chart svg path")) >= 2, "the latency chart is drawn")
        shot(drv, args.screenshots, "serve-option.png")

        # 3. The lint pane.
        fixture = ROOT / "crates/deploy/tests/fixtures/lint/autoscale-on-gpu-utilization.yaml"
        want = cli(binary, "lint", str(fixture))
        drv.get(base + "/#lint")
        box = drv.find_element(By.ID, "lint-input")
        drv.execute_script("arguments[0].value = arguments[1]", box, fixture.read_text())
        drv.find_element(By.ID, "lint-run").click()
        WebDriverWait(drv, args.timeout).until(lambda d: d.find_element(By.ID, "lint-status").text.endswith("findings.")
                                               or d.find_element(By.ID, "lint-error").is_displayed())
        got = [li.get_attribute("data-code") for li in drv.find_elements(By.CSS_SELECTOR, "#lint-findings li")]
        check(got == [f["code"] for f in want], f"the lint pane lists lint's findings {[f['code'] for f in want]} (page: {got})")
        check(len(drv.find_elements(By.CSS_SELECTOR, "#lint-lines .hit")) == len({f["line"] for f in want}),
              "each finding's line is marked in the YAML")
        shot(drv, args.screenshots, "serve-lint.png")

        # 4. The shared link reproduces the plan.
        drv.get("about:blank")
        drv.get(share)
        wait_rows(drv, args.timeout)
        check(first_row(drv)[1] == expected["instance"] and drv.find_element(By.ID, "f-model").get_attribute("value") == workload["model"]["name"],
              "the shared link fills the form and plans again")

        # 5. The day, simulated.
        fill(drv, "f-vtop", 1)
        drv.find_element(By.ID, "plan-verify").click()
        WebDriverWait(drv, args.timeout * 4).until(lambda d: not d.find_element(By.ID, "plan-verify").get_attribute("disabled"))
        if drv.find_element(By.ID, "plan-error").is_displayed():
            fail("verify: " + drv.find_element(By.ID, "plan-error").text)
        drv.find_element(By.ID, "nav-day").click()
        WebDriverWait(drv, args.timeout * 4).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#day-table tr")) == 25)
        check(True, "the day view shows 24 simulated hours")
        shot(drv, args.screenshots, "serve-day.png")
    finally:
        drv.quit()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print("browser test: all checks passed")


if __name__ == "__main__":
    main()
