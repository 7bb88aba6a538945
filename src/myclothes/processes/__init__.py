"""Process control for real servers, shared by the cluster, the benchmark and the test fixtures.

Free ports outside the ephemeral range, readiness probes, one :class:`Process` per server (started until its probe
answers, one log file, stopped by PID: a signal, then SIGKILL after a timeout) the HAProxy configuration in front
of web processes and a Sentinel's. It knows nothing of the shop: the app is just a process here.
"""

from myclothes.processes.haproxy import balancer_config
from myclothes.processes.pids import children, frozen, pid_alive, stop_process, wait_gone
from myclothes.processes.probes import PORT_RANGE, PROBE, free_port, http_ok, listening, wait_until
from myclothes.processes.process import Process
from myclothes.processes.sentinel import sentinel_config

__all__ = [
    "PORT_RANGE",
    "PROBE",
    "Process",
    "balancer_config",
    "children",
    "free_port",
    "frozen",
    "http_ok",
    "listening",
    "pid_alive",
    "sentinel_config",
    "stop_process",
    "wait_gone",
    "wait_until",
]
