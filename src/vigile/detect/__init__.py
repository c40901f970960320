"""Detection of hijacked and abusive agent accounts (docs/detection.md).

Features per agent and window in SQL run by DuckDB (``sql/``), Sigma rules (``sigma/``),
baselines and an Isolation Forest, one risk per agent, alerts with reasons and evidence,
in batch or streaming, with containment through a port::

    from vigile.detect import detect, StreamingDetector

    alerts = detect(store.engine)
"""

from vigile.detect.alerts import Alert, AlertStatus
from vigile.detect.book import AlertBook
from vigile.detect.containment import ContainmentPort, RecordedContainment
from vigile.detect.errors import AlertNotFound, DetectError, RuleError
from vigile.detect.risk import RiskPolicy, Severity
from vigile.detect.rules import RULE_PACKS, check_rules, load_rules, register_rule_pack
from vigile.detect.service import DetectionConfig, detect
from vigile.detect.stream import StepResult, StreamingDetector

__all__ = [
    "RULE_PACKS",
    "Alert",
    "AlertBook",
    "AlertNotFound",
    "AlertStatus",
    "ContainmentPort",
    "DetectError",
    "DetectionConfig",
    "RecordedContainment",
    "RiskPolicy",
    "RuleError",
    "Severity",
    "StepResult",
    "StreamingDetector",
    "check_rules",
    "detect",
    "load_rules",
    "register_rule_pack",
]
