"""Reports spread over several servers: each report answered once, a server killed mid-run replaced by the others,
the run stopped with the resume hint once every server is gone, and labels that do not depend on how many servers
answered. Against two real embedded servers on loopback and a real model."""

import os
import signal
import sqlite3
import threading
import time

import pandas as pd
import pytest
import yaml

from analysis.bench import bench_hosts, hosts_table
from analysis.config import DEMO_DIR
from analysis.data.io import read_reports
from analysis.llm.client import free_loopback_port, start_embedded_server
from analysis.llm.backend import ServerLost
from analysis.llm.spreading import spread
from analysis.specs import Host, Requests, SpecError, load_run
from tests.conftest import SMALL_MODEL, cached_rows, stop_server
from tests.frames import run_labels

EMBEDDED = load_run("embedded")
# A dead server leaves the run after four quick tries, not after the run file's 1 + 2 + 4 s of backoff.
QUICK = Requests(timeout_s=120, retries=3, backoff_s=0.1)


def run_on(urls: list[str]):
    return EMBEDDED.model_copy(update={"hosts": [Host(url=url) for url in urls], "requests": QUICK})


def start_servers(count: int) -> list[tuple[str, object]]:
    """``count`` embedded servers on loopback: (URL, process) each."""
    started = []
    for _ in range(count):
        url = f"http://127.0.0.1:{free_loopback_port()}"
        started.append((url, start_embedded_server(url)))
    return started


def stop_all(servers) -> None:
    for _, process in servers:
        if process.poll() is None:
            stop_server(process)


def kill_when_answered(cache, rows: int, processes) -> threading.Thread:
    """A thread that kills ``processes`` (SIGKILL, by their own pids) once the cache holds ``rows`` answers."""
    def watch():
        deadline = time.monotonic() + 300
        while cached_rows(cache) < rows and time.monotonic() < deadline:
            time.sleep(0.05)
        for process in processes:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def demo_reports(n: int) -> pd.DataFrame:
    """The first ``n`` demo reports that have an impression, so that each sends one request."""
    reports = read_reports(DEMO_DIR / "reports.csv")
    with_impression = reports[reports.report_text.str.contains("IMPRESSION", case=False)]
    return with_impression.head(n).reset_index(drop=True)


@pytest.fixture(scope="module")
def pair():
    servers = start_servers(2)
    try:
        yield [url for url, _ in servers]
    finally:
        stop_all(servers)


@pytest.mark.llm  # starts its own server
def test_a_server_killed_mid_run_hands_its_reports_to_the_other_and_no_report_is_answered_twice(tmp_path):
    reports = demo_reports(16)
    servers = start_servers(2)
    (first, _), (second, doomed) = servers
    cache = tmp_path / "cache.sqlite"
    try:
        watcher = kill_when_answered(cache, 4, [doomed])
        labels, manifest = run_labels(reports, tmp_path / "out", run=run_on([first, second]), models=[SMALL_MODEL],
                                      cache_path=cache)
        watcher.join()
        assert doomed.poll() is not None  # it was killed in mid-run, not after
        (timing,) = [row for row in manifest.timing if row.model == SMALL_MODEL]
        print(f"answered by the survivor: {timing.answered_by[first]}, by the killed server: "
              f"{timing.answered_by[second]}, of {len(reports)}")
        assert timing.answered_by[second] >= 1 and timing.answered_by[first] > timing.answered_by[second]
        assert sum(timing.answered_by.values()) == len(reports)  # every report answered by one server, once
        with sqlite3.connect(cache) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert connection.execute("SELECT COUNT(*), COUNT(DISTINCT report_id) FROM responses").fetchone() == (
                len(reports), len(reports))
        assert (labels.status == "answered").all() and len(labels) == len(reports)
        alone, _ = run_labels(reports, tmp_path / "alone", run=run_on([first]), models=[SMALL_MODEL])
        pd.testing.assert_frame_equal(labels, alone, check_exact=True)
    finally:
        stop_all(servers)


@pytest.mark.llm  # starts its own server
def test_when_every_server_is_gone_the_run_stops_with_the_resume_hint_and_a_rerun_resumes(tmp_path):
    reports = demo_reports(12)
    servers = start_servers(2)
    cache = tmp_path / "cache.sqlite"
    try:
        watcher = kill_when_answered(cache, 3, [process for _, process in servers])
        with pytest.raises(ServerLost, match=r"All 2 LLM servers of the run failed \(http://127\.0\.0\.1:\d+: The LLM "
                                             r"server at .* run the same command again to resume\."):
            run_labels(reports, tmp_path / "out", run=run_on([url for url, _ in servers]), models=[SMALL_MODEL],
                       cache_path=cache)
        watcher.join()
    finally:
        stop_all(servers)
    answered = cached_rows(cache)
    assert 3 <= answered < len(reports)
    (replacement,) = start_servers(1)
    try:
        labels, manifest = run_labels(reports, tmp_path / "out", run=run_on([replacement[0]]), models=[SMALL_MODEL],
                                      cache_path=cache)
    finally:
        stop_all([replacement])
    (timing,) = [row for row in manifest.timing if row.model == SMALL_MODEL]
    assert (timing.from_cache, sum(timing.answered_by.values())) == (answered, len(reports) - answered)
    assert (labels.status == "answered").all() and cached_rows(cache) == len(reports)


def test_the_bench_measures_one_server_against_all_with_the_same_answers(pair):
    results = bench_hosts(pair, limit=4, tags=[SMALL_MODEL])
    measured = results["models"][SMALL_MODEL]
    assert results["reports"] == 4 and measured["same_answers"]
    assert measured["one_server_reports_per_s"] > 0 and measured["all_servers_reports_per_s"] > 0
    assert measured["speedup"] == pytest.approx(measured["one_server_s"] / measured["all_servers_s"])
    assert "2 servers reports/s" in hosts_table(results)


class StandIn:
    """Stands in for a server in tests of the spreading around the servers (no model, no request): its address and
    the requests in flight it takes."""

    def __init__(self, host: str, workers: int = 1):
        self.host, self.workers = host, workers


def test_spreading_asks_each_report_once_and_moves_a_lost_servers_report_to_the_others():
    asked, lock = [], threading.Lock()

    def ask(report_id, server):
        if server.host == "dies" and len([a for a in asked if a[1] == "dies"]) >= 2:
            raise ServerLost(f"The LLM server at dies failed ({report_id} not answered).")
        with lock:
            asked.append((report_id, server.host))
        time.sleep(0.01)
        return f"{report_id} by {server.host}"

    report_ids = [f"r{i}" for i in range(20)]
    results = spread(ask, report_ids, [StandIn("lives", workers=2), StandIn("dies")])
    assert list(results) == report_ids  # in the order given
    assert sorted(report for report, _ in asked) == sorted(report_ids)  # each answered once
    assert sum(host == "dies" for _, host in asked) == 2


def test_spreading_stops_with_every_servers_failure_once_none_is_left():
    def ask(report_id, server):
        raise ServerLost(f"The LLM server at {server.host} failed.")

    with pytest.raises(ServerLost, match=r"All 2 LLM servers of the run failed \(a: .*; b: .*\)\. Everything answered"):
        spread(ask, ["r1", "r2"], [StandIn("a"), StandIn("b")])
    with pytest.raises(ServerLost, match=r"^The LLM server at a failed\.$"):  # one server: its own line, as ever
        spread(ask, ["r1"], [StandIn("a")])


def test_a_failure_that_is_not_a_lost_server_stops_the_spreading_at_once():
    def ask(report_id, server):
        if report_id == "r3":
            raise ValueError("a bug, not the server")
        return report_id

    with pytest.raises(ValueError, match="a bug"):
        spread(ask, [f"r{i}" for i in range(50)], [StandIn("a"), StandIn("b")])


@pytest.mark.parametrize("hosts, message", [
    ([{"url": "http://a:8000/v1", "models": ["gpt-4"]}], r"serves \['gpt-4'\], which are not models of the run"),
    ([{"url": "http://a:8000/v1", "models": ["smollm2:135m"]}], r"no server serves \['qwen2.5-coder:1.5b', "),
    ([{"url": "http://a:11434"}, {"url": "http://a:11434"}], "lists a server twice"),
])
def test_a_run_files_hosts_are_checked(tmp_path, hosts, message):
    (tmp_path / "hosts.yaml").write_text(yaml.safe_dump({**EMBEDDED.model_dump(mode="json", by_alias=True), "hosts": hosts}))
    with pytest.raises(SpecError, match=message):
        load_run("hosts", directory=tmp_path)


def test_the_shipped_run_files_for_several_servers_load_and_every_model_has_a_server():
    for name in ("vllm", "ollama_servers", "llama_server"):
        run = load_run(name)
        assert run.hosts and all(run.hosts_of(tag) for tag in run.tags), name
    assert [host.models for host in load_run("vllm").hosts_of("llama3.1:70b")] == [["llama3.1:70b"]] * 2
