"""Synthetic monitoring: probes (HTTP, TCP, TLS, DNS), conditions, scheduling, state rules, rollups.

Self-contained: nothing here touches the database or the alert pipeline. The caller wires
``Runner(probe, store, clock=...)`` to its storage and feeds stored results to ``rules.observe``, whose
AlertEvents go to the pipeline. See docs/integrations/probes.md.

Running monitors from the config against the database (storage, rollups, alerts) is
``koban.monitoring.prober.Prober``: its docstring shows how to run one programmatically; docs/probes.md.
"""

from koban.probes.conditions import Condition, Conditions, ConditionSyntaxError, apply_conditions
from koban.probes.dns import DnsProbeConfig, probe_dns
from koban.probes.exposition import exposition
from koban.probes.http import HttpProbeConfig, probe_http
from koban.probes.result import PHASES, CertInfo, ConditionResult, Phases, ProbeResult
from koban.probes.rollup import Histogram, Rollup, merge, rollup_results
from koban.probes.rules import MonitorState, Rule, evaluate, observe, record, should_recheck
from koban.probes.runner import Monitor, Runner, RunnerStats
from koban.probes.schedule import first_due, next_due, phase_offset
from koban.probes.tcp import TcpProbeConfig, TlsProbeConfig, probe_tcp, probe_tls

__all__ = [
    "PHASES",
    "CertInfo",
    "Condition",
    "ConditionResult",
    "ConditionSyntaxError",
    "Conditions",
    "DnsProbeConfig",
    "Histogram",
    "HttpProbeConfig",
    "Monitor",
    "MonitorState",
    "Phases",
    "ProbeResult",
    "Rollup",
    "Rule",
    "Runner",
    "RunnerStats",
    "TcpProbeConfig",
    "TlsProbeConfig",
    "apply_conditions",
    "evaluate",
    "exposition",
    "first_due",
    "merge",
    "next_due",
    "observe",
    "phase_offset",
    "probe_dns",
    "probe_http",
    "probe_tcp",
    "probe_tls",
    "record",
    "rollup_results",
    "should_recheck",
]
