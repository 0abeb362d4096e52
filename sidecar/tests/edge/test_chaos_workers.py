"""The chaos bench finds the sidecar's media workers and the UDP ports each one holds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hold_slayer_tools.bench.workers import WORKER_MODULE, parse_udp_table, udp_ports, worker_pids

UDP_TABLE = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tx_retrnsmt   uid  timeout inode ref pointer drops
  1: 0100007F:13C4 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 4242 2 0000 0
  2: 0200007F:0FA0 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 77 2 0000 0
  3: cut short
"""


def test_udp_table_maps_inode_to_local_port() -> None:
    assert parse_udp_table(UDP_TABLE) == {4242: 5060, 77: 4000}


def test_udp_table_ignores_garbage() -> None:
    assert parse_udp_table("header\n  1: 0100007F:ZZZZ 0 0 0 0 0 0 0 12\n\nnonsense") == {}


@pytest.fixture
def bound() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


def test_udp_ports_lists_a_socket_this_process_bound(bound: socket.socket) -> None:
    port = bound.getsockname()[1]
    assert port in udp_ports(os.getpid())
    bound.close()
    assert port not in udp_ports(os.getpid())


def test_udp_ports_of_a_gone_process_is_empty() -> None:
    assert udp_ports(2**22 + 1) == set()  # above the kernel's pid_max limit: never a live process


def test_worker_pids_finds_only_children_running_the_worker_module() -> None:
    sleeper = "import os, time; os.close(1); time.sleep(30)"
    worker = subprocess.Popen([sys.executable, "-c", sleeper, "-m", WORKER_MODULE], stdout=subprocess.PIPE)
    other = subprocess.Popen([sys.executable, "-c", sleeper, "-m", "something.else"], stdout=subprocess.PIPE)
    try:
        for proc in (worker, other):
            assert proc.stdout is not None
            proc.stdout.read()  # returns once the child is running its code, with its final command line
        assert worker_pids(os.getpid()) == [worker.pid]
        assert worker_pids(worker.pid) == []
    finally:
        for proc in (worker, other):
            proc.kill()
            proc.wait()
