"""Find the sidecar's media worker processes and the UDP ports each one holds (Linux /proc)."""

from __future__ import annotations

import os
from pathlib import Path

WORKER_MODULE = "hold_slayer_sidecar.sip.worker"  # what a media worker's command line runs (sip/worker_link.py)
_PROC = Path("/proc")


def worker_pids(parent: int, proc: Path = _PROC) -> list[int]:
    """Process ids of ``parent``'s children that run a media worker (the spare interpreter too), sorted."""
    return child_pids(parent, WORKER_MODULE, proc)


def child_pids(parent: int, argument: str, proc: Path = _PROC) -> list[int]:
    """Process ids of ``parent``'s children with ``argument`` (exactly) in their command line, sorted."""
    pids = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # it exited meanwhile
        if ppid == parent and argument.encode() in argv:
            pids.append(int(stat.parent.name))
    return sorted(pids)


def socket_inodes(pid: int, proc: Path = _PROC) -> set[int]:
    """Inodes of the sockets the process has open (empty if it is gone)."""
    inodes = set()
    fd_dir = proc / str(pid) / "fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return set()
    for name in names:
        try:
            target = os.readlink(fd_dir / name)
        except OSError:
            continue
        if target.startswith("socket:[") and target.endswith("]"):
            inodes.add(int(target[8:-1]))
    return inodes


def parse_udp_table(text: str) -> dict[int, int]:
    """Map socket inode -> local port from a /proc/net/udp or udp6 table."""
    ports = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        try:
            ports[int(fields[9])] = int(fields[1].rsplit(":", 1)[1], 16)
        except (IndexError, ValueError):
            continue
    return ports


def udp_ports(pid: int, proc: Path = _PROC) -> set[int]:
    """Local UDP ports the process holds (its SIP port, and the RTP/RTCP ports of the calls it carries)."""
    inodes = socket_inodes(pid, proc)
    ports: set[int] = set()
    for table in ("udp", "udp6"):
        try:
            text = (proc / str(pid) / "net" / table).read_text()
        except OSError:
            continue
        ports.update(port for inode, port in parse_udp_table(text).items() if inode in inodes)
    return ports
