"""Scenarios of a SONIC site on several hosts (network namespaces on this machine): sonic-server
hosts behind a real load balancer, Prometheus scraping them, demonstrator jobs on client hosts.

Each full scenario writes its figures to bench/results/cluster_<name>.json. Timings are recorded,
never asserted, except the ratios the deployment promises (a remote site's throughput against the
local one; requests per server against each other). `-m quick` runs the short one CTest runs.
"""

import json
import os
import shutil
import time

import pytest

import cluster as cl
import sonic_site as st

# The machine's cores are shared by every host: jobs are one thread each, short.
EVENTS = 150


def make_site(build_dir, models, **kwargs):
    cluster = cl.Cluster(build_dir, keep_logs_in=os.environ.get("SONIC_CLUSTER_LOGS")).open()
    try:
        return cluster, st.Site(cluster, models, **kwargs).start()
    except BaseException:
        cluster.close()
        raise


def wait_for_requests(site, name, at_least, timeout=60):
    """Waits until server `name` has answered `at_least` requests; returns the seconds."""
    start = time.monotonic()
    host = site.servers[name][0]
    while site.cluster.metric_sum(host, "nv_inference_request_success") < at_least:
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"{name} answered fewer than {at_least} requests in {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start


def assert_nothing_lost(summary, events):
    assert summary["exit_status"] == 0, summary.get("log_tail", summary)
    assert summary["events"] == events, summary
    assert summary["validation_passed"] is not False, summary


@pytest.mark.quick
def test_quick_server_killed_behind_haproxy(build_dir, models):
    """Two servers behind HAProxy, one killed while a validated job runs: the job ends with
    every event, its outputs equal to direct inference, and the other server took over."""
    cluster, site = make_site(build_dir, models, servers=2, jobs=1, prometheus=False)
    with cluster:
        process, report = site.start_job(site.jobs[0], "job", events=120, concurrent_events=8,
                                         validate=True)
        wait_for_requests(site, "s1", 20)
        site.kill_server("s1")
        site.wait_states({"s1": "DOWN"})
        result = st.job_summary(*site.finish_job("job", process, report))
        assert_nothing_lost(result, 120)
        assert result["validation_passed"] is True
        assert site.server_requests()["s2"] > 0


def test_balancer_choice(build_dir, models, record):
    """HAProxy 2.6 (HTTP/2 both sides) against nginx grpc_pass in front of the same 3 servers:
    one model's throughput and latency through each (sonic perf, 8 requests outstanding), and
    the demonstrator job's events/s."""
    figures = {}
    for kind in ("haproxy", "nginx"):
        cluster, site = make_site(build_dir, models, servers=3, jobs=1, balancer=kind,
                                  prometheus=False)
        with cluster:
            out = cluster.work / "perf.json"
            site.jobs[0].run([str(build_dir / "bin/sonic"), "perf", "-m", "deeptau", "-u",
                              f"{site.lb.ip}:{cl.BALANCER_PORT}", "-a", "--concurrency-range",
                              "8", "-p", "1500", "-r", "4", "--json", str(out)], timeout=120)
            perf = json.loads(out.read_text())
            job = st.job_summary(*site.run_jobs(1, events=EVENTS, concurrent_events=8)[0])
            assert_nothing_lost(job, EVENTS)
            figures[kind] = {"perf_deeptau_c8": perf, "job": job,
                             "requests_per_server": site.server_requests()}
    figures["active_health_checks"] = {
        "haproxy": "yes: GET /v2/health/ready on each server's HTTP port every 300 ms",
        "nginx": "no (open-source nginx): a dead server is only found by failing requests"}
    record("cluster_balancer_choice", figures)


def test_throughput_by_servers(build_dir, models, record):
    """Two jobs at once through HAProxy with 1, 2 and 3 servers in the backend (the others in
    maintenance): total events/s."""
    cluster, site = make_site(build_dir, models, servers=3, jobs=2)
    figures = {}
    with cluster:
        for count in (1, 2, 3):
            for i in (1, 2, 3):
                state = "ready" if i <= count else "maint"
                cl.haproxy_command(site.stats_socket, f"set server servers/s{i} state {state}")
            before = site.server_requests()
            results = [st.job_summary(*r) for r in site.run_jobs(2, events=EVENTS)]
            for result in results:
                assert_nothing_lost(result, EVENTS)
            after = site.server_requests()
            served = {name: after[name] - before[name] for name in after}
            assert all(served[f"s{i}"] == 0 for i in range(count + 1, 4)), served
            figures[f"{count}_servers"] = {
                "total_events_per_second": sum(r["events_per_second"] for r in results),
                "jobs": results, "requests_per_server": served}
    figures["note"] = ("all hosts share the machine's 2 cores: the jobs' own CPU time bounds "
                       "the total, so more servers add little here")
    record("cluster_throughput", figures)


def test_server_killed_and_added(build_dir, models, record):
    """A server killed (SIGKILL) while a validated job runs, a new one started and added to the
    balancer at run time: every event once, outputs equal to direct inference; how long the
    balancer took to take the dead server out and the new one in."""
    cluster, site = make_site(build_dir, models, servers=2, spare=1, jobs=1)
    events = 400
    with cluster:
        process, report = site.start_job(site.jobs[0], "job", events=events, validate=True)
        wait_for_requests(site, "s1", 30)
        killed_at = time.monotonic()
        site.kill_server("s1")
        detected = site.wait_states({"s1": "DOWN"})
        started_at = time.monotonic()
        site.start_server("s3")
        ready = time.monotonic() - started_at
        site.add_to_balancer("s3")
        serving = wait_for_requests(site, "s3", 1)
        first_request_after_kill = time.monotonic() - killed_at
        result = st.job_summary(*site.finish_job("job", process, report))
        requests = site.server_requests()
        assert_nothing_lost(result, events)
        assert result["validation_passed"] is True
        assert requests["s3"] > 0, requests
        record("cluster_failover", {
            "job": result,
            "seconds_kill_to_balancer_down": detected,
            "seconds_new_server_start_to_ready": ready,
            "seconds_added_to_first_request": serving,
            "seconds_kill_to_new_server_serving": first_request_after_kill,
            "requests_per_server_after": requests,
        })


def single_request_latency(site):
    """p50 latency (us) of deeptau requests one at a time from the first job host."""
    out = site.cluster.work / "latency.json"
    site.jobs[0].run([str(site.cluster.build_dir / "bin/sonic"), "perf", "-m", "deeptau", "-u",
                      site.job_address, "--concurrency-range", "1", "-p", "1000", "-r", "3",
                      "--json", str(out)], timeout=60)
    return json.loads(out.read_text())["results"][0]["latency_us"]["p50"]


def test_remote_site(build_dir, models, record):
    """The job hosts at 0, 20 and 50 ms RTT from the balancer and servers (tc netem, or a delay
    relay where the kernel lacks netem; one request's latency at each, measured with sonic
    perf, shows the RTT), Async clients with 48 events in flight: throughput against the local
    one (within 10%). The three run twice, interleaved, and the means compared, so that a change
    of the machine's load during the scenario weighs on every side."""
    cluster, site = make_site(build_dir, models, servers=3, jobs=1, prometheus=False)
    figures = {}
    with cluster:
        rates = {}
        for rtt in (0, 20, 50) * 2:
            figures["delay_method"] = site.set_remote_delay(rtt)
            if rtt not in rates:
                figures[f"rtt_{rtt}ms_single_request_p50_us"] = single_request_latency(site)
            result = st.job_summary(*site.run_jobs(1, events=2 * EVENTS, concurrent_events=48)[0])
            assert_nothing_lost(result, 2 * EVENTS)
            rates.setdefault(rtt, []).append(result["events_per_second"])
            figures[f"rtt_{rtt}ms_run{len(rates[rtt])}"] = result
        mean = {rtt: sum(values) / len(values) for rtt, values in rates.items()}
        for rtt in (20, 50):
            figures[f"ratio_{rtt}ms_to_local"] = mean[rtt] / mean[0]
    record("cluster_remote_site", figures)
    for rtt in (20, 50):
        assert figures[f"ratio_{rtt}ms_to_local"] >= 0.9, figures


def test_balance(build_dir, models, record):
    """Steady load from two jobs through HAProxy's least-requests balancing: each server's
    requests, as Prometheus scraped them, within 20% of each other."""
    cluster, site = make_site(build_dir, models, servers=3, jobs=2)
    with cluster:
        time.sleep(2)
        before = site.prometheus_requests()
        results = [st.job_summary(*r) for r in site.run_jobs(2, events=EVENTS * 2,
                                                                concurrent_events=16)]
        for result in results:
            assert_nothing_lost(result, EVENTS * 2)
        direct = site.server_requests()
        time.sleep(3)  # two scrapes after the last request
        after = site.prometheus_requests()
        served = {name: after[name] - before[name] for name in after}
        spread = (max(served.values()) - min(served.values())) / max(served.values())
        record("cluster_balance", {"requests_per_server_prometheus": served,
                                   "requests_per_server_metrics_endpoint": direct,
                                   "spread_max_minus_min_over_max": spread, "jobs": results})
        assert served == direct, (served, direct)
        assert spread <= 0.2, served


def test_saturation(build_dir, models, record):
    """Four jobs at once on one server (more than it takes without queueing): every job ends
    with every event, validated, and slower than a job alone; the server's queue time per
    request before and under saturation."""
    cluster, site = make_site(build_dir, models, servers=1, jobs=4, prometheus=False)
    events = 80
    with cluster:
        server = site.servers["s1"][0]

        def queue_us_per_request(run):
            before = cluster.metrics(server)
            results = run()
            after = cluster.metrics(server)

            def delta(name):
                return sum(v - before.get(k, 0) for k, v in after.items() if k[0] == name)
            return results, delta("nv_inference_queue_duration_us") / max(
                1, delta("nv_inference_request_success"))

        alone, alone_queue = queue_us_per_request(
            lambda: [st.job_summary(*r) for r in site.run_jobs(1, events=events)])
        crowd, crowd_queue = queue_us_per_request(
            lambda: [st.job_summary(*r) for r in site.run_jobs(4, events=events, validate=True)])
        for result in alone + crowd:
            assert_nothing_lost(result, events)
        assert all(r["validation_passed"] for r in crowd), crowd
        record("cluster_saturation", {
            "alone": alone[0], "alone_queue_us_per_request": alone_queue,
            "four_jobs": crowd, "four_jobs_queue_us_per_request": crowd_queue,
            "per_job_slowdown": alone[0]["events_per_second"] / (
                sum(r["events_per_second"] for r in crowd) / len(crowd)),
        })


def limited_models(cluster, models, limit_us):
    """A copy of the demonstrator's models whose configs set max_expected_queue_time_us."""
    limited = cluster.work / "models_limited"
    shutil.copytree(models, limited)
    for config in limited.glob("*/config.pbtxt"):
        text = config.read_text()
        assert "dynamic_batching { }" in text, config
        config.write_text(text.replace(
            "dynamic_batching { }",
            "dynamic_batching { }\nparameters { key: \"max_expected_queue_time_us\" "
            f"value {{ string_value: \"{limit_us}\" }} }}"))
    return limited


def test_admission_control(build_dir, models, record):
    """Admission control on both sides. One server whose models refuse requests expected to
    wait over 50 ms; three validated jobs at once through HAProxy, whose rule refuses new
    clients while the fleet's queue time per request (Prometheus) is over 5 ms. Every job ends
    with every event, validated, slowed by the server's refusals instead of failing; the
    server's queue time per request stays near its limit (test_saturation: ~100 ms without
    one). While they run, a job from a fourth host, a new client, is refused at its start;
    once they end and the queue time falls, a new job from that host is admitted and runs."""
    cluster = cl.Cluster(build_dir, keep_logs_in=os.environ.get("SONIC_CLUSTER_LOGS")).open()
    try:
        site = st.Site(cluster, limited_models(cluster, models, 50000), servers=1, jobs=4,
                       admission_threshold_us=5000).start()
    except BaseException:
        cluster.close()
        raise
    # Long enough for Prometheus (1 s scrapes, rates over 5 s) and the balancer to see them.
    events = 300
    with cluster:
        server = site.servers["s1"][0]
        before = cluster.metrics(server)
        running = [site.start_job(site.jobs[i], f"job{i + 1}", events=events, validate=True)
                   for i in range(3)]
        saturated_after = site.wait_states({cl.SATURATION_SERVER: "UP"}, timeout=120,
                                           backend=cl.SATURATION_BACKEND)
        fleet_us = cl.prometheus_query(site.prom, cl.fleet_queue_query(0, "5s"))
        process, report = site.start_job(site.jobs[3], "new-client", events=10)
        new_client_status = process.wait(timeout=120)
        new_client_log = cluster.log_text("new-client")[-2000:]
        results = [st.job_summary(*site.finish_job(f"job{i + 1}", *job))
                   for i, job in enumerate(running)]
        after = cluster.metrics(server)

        def delta(name, **labels):
            wanted = set(labels.items())
            return sum(v - before.get(k, 0) for k, v in after.items()
                       if k[0] == name and wanted <= set(k[1]))
        queue_us = delta("nv_inference_queue_duration_us") / max(
            1, delta("nv_inference_request_success"))
        refused = delta("sonic_inference_request_refused", reason="QUEUE_TIME")
        admitted_after = site.wait_states({cl.SATURATION_SERVER: "DOWN"}, timeout=120,
                                          backend=cl.SATURATION_BACKEND)
        process, report = site.start_job(site.jobs[3], "late-client", events=10)
        late = st.job_summary(*site.finish_job("late-client", process, report))
        record("cluster_admission", {
            "jobs": results, "server_queue_us_per_request": queue_us,
            "server_refusals_queue_time": refused,
            "seconds_jobs_start_to_balancer_saturated": saturated_after,
            "fleet_queue_us_per_request_when_saturated": fleet_us,
            "new_client_exit_status": new_client_status, "new_client_log_tail": new_client_log,
            "seconds_jobs_end_to_balancer_admitting": admitted_after, "late_client": late,
        })
        for result in results:
            assert_nothing_lost(result, events)
            assert result["validation_passed"] is True, result
        assert refused > 0
        assert sum(r["full_queue_refusals"] for r in results) > 0, results
        assert new_client_status != 0, new_client_log
        assert_nothing_lost(late, 10)
