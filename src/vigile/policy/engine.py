"""Cedar policies compiled once and evaluated per request, failing closed.

:class:`PolicyEngine` holds the schema, the policy set (default policies plus a folder
of custom ones, each validated against the schema at start-up) and the entities
(:class:`~vigile.policy.entities.EntityCache`). :meth:`PolicyEngine.decide` takes a
principal, an action, a resource and a context and returns a :class:`Decision`: allow or
deny, the deciding policies by name, and a human reason. Any evaluation error denies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import cedarpy
import orjson

from vigile.policy.entities import EntityCache, uid
from vigile.policy.errors import InvalidPolicy, PolicyError
from vigile.policy.source import PolicyText, read_folder, split_policies

__all__ = ["DEFAULT_POLICY_FILE", "Decision", "PolicyEngine", "load_schema"]

DEFAULT_POLICY_FILE = "default.cedar"
_NO_PERMIT = (
    "no policy permits this: it needs an open ticket of this customer assigned to you, "
    "an active grant, or break-glass"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    """The answer to one request: allowed or not, by which policies, and why."""

    allowed: bool
    policies: tuple[str, ...]
    reason: str

    @classmethod
    def deny(cls, reason: str, *policies: str) -> Decision:
        """A denial decided outside Cedar (unknown agent, evaluation failure...)."""
        return cls(allowed=False, policies=policies, reason=reason)


def _packaged(name: str) -> str:
    return resources.files("vigile.policy").joinpath(name).read_text(encoding="utf-8")


def load_schema() -> cedarpy.Schema:
    """Vigile's Cedar schema (``schema.cedarschema``), parsed."""
    return cedarpy.Schema.from_str(_packaged("schema.cedarschema"))


class PolicyEngine:
    """The compiled policy set, the schema and the entities; thread-safe to evaluate."""

    def __init__(self, policies: list[PolicyText]) -> None:
        self.schema = load_schema()
        self.policies = tuple(policies)
        self.entities = EntityCache(self.schema)
        self._by_id = {f"policy{index}": text for index, text in enumerate(self.policies)}
        digest = hashlib.sha256()
        for policy in self.policies:
            digest.update(f"{policy.source}\0{policy.text}\0".encode())
        self._version = digest.hexdigest()[:16]
        try:
            self._set = cedarpy.PolicySet.from_str("\n".join(p.text for p in self.policies))
        except ValueError as exc:  # each file parsed alone already; kept as a guard
            raise PolicyError(f"the policy set does not parse: {exc}") from exc

    @classmethod
    def load(cls, folder: Path | None = None) -> PolicyEngine:
        """The default policies plus every ``*.cedar`` file of ``folder``, all validated
        against the schema: the first invalid policy raises :class:`InvalidPolicy`."""
        files = [(DEFAULT_POLICY_FILE, _packaged(DEFAULT_POLICY_FILE))]
        if folder is not None:
            if not folder.is_dir():
                raise PolicyError(f"{folder}: no such policy folder")
            files.extend(read_folder(folder))
        schema = load_schema()
        policies: list[PolicyText] = []
        for source, text in files:
            policies.extend(compile_file(source, text, schema))
        _check_unique_names(policies)
        return cls(policies)

    @property
    def policy_set(self) -> cedarpy.PolicySet:
        """The compiled Cedar policy set (for benchmarks and tools)."""
        return self._set

    @property
    def version(self) -> str:
        """The policy set's version: a digest of every policy's source and text. An
        approval given under one version is not honoured under another."""
        return self._version

    @property
    def names(self) -> tuple[str, ...]:
        """The readable names of every policy, in order."""
        return tuple(p.name for p in self.policies)

    def decide(
        self,
        *,
        principal: tuple[str, str],
        action: str,
        resource: tuple[str, str],
        context: Mapping[str, Any],
        entities: cedarpy.Entities | None = None,
    ) -> Decision:
        """Evaluate one request; deny on any error, naming it.

        ``entities`` is the handle :meth:`EntityCache.ensure` returned for this request's
        entities; without it, the latest handle is used.
        """
        request = {
            "principal": uid(*principal),
            "action": {"type": "Action", "id": action},
            "resource": uid(*resource),
            # As JSON text: cedarpy would otherwise encode it with the slower json module.
            "context": orjson.dumps(dict(context)).decode(),
        }
        handle = self.entities.handle if entities is None else entities
        try:
            result = cedarpy.is_authorized(request, self._set, handle)
        except (ValueError, TypeError, orjson.JSONEncodeError) as exc:
            return Decision.deny(f"policy evaluation failed: {exc}")
        return self._decision(result)

    def _decision(self, result: cedarpy.AuthzResult) -> Decision:
        diagnostics = result.diagnostics
        deciding = [self._by_id[r] for r in diagnostics.reasons if r in self._by_id]
        names = tuple(p.name for p in deciding)
        if diagnostics.errors:
            return Decision.deny(f"policy evaluation failed: {diagnostics.errors[0]}", *names)
        if result.allowed:
            return Decision(allowed=True, policies=names, reason=_reasons(deciding))
        if deciding:
            return Decision(allowed=False, policies=names, reason=_reasons(deciding))
        return Decision.deny(_NO_PERMIT)


def compile_file(source: str, text: str, schema: cedarpy.Schema) -> list[PolicyText]:
    """The policies of one file, each parsed and the file validated against ``schema``."""
    policies = split_policies(source, text)
    for policy in policies:
        try:
            cedarpy.PolicySet.from_str(policy.text)
        except ValueError as exc:
            raise InvalidPolicy(source, policy.line, f"does not parse: {exc}") from exc
    result = cedarpy.validate_policies("\n".join(p.text for p in policies), schema)
    for error in result.errors:
        index = _index_of(error.policy_id)
        line = policies[index].line if index < len(policies) else 1
        raise InvalidPolicy(source, line, error.error)
    return policies


def _index_of(policy_id: str) -> int:
    """The position of Cedar's positional id (``policy3`` -> 3); 0 when unknown."""
    digits = policy_id.removeprefix("policy")
    return int(digits) if digits.isdigit() else 0


def _check_unique_names(policies: Iterable[PolicyText]) -> None:
    seen: dict[str, PolicyText] = {}
    for policy in policies:
        first = seen.setdefault(policy.name, policy)
        if first is not policy:
            raise InvalidPolicy(
                policy.source,
                policy.line,
                f"@id {policy.name!r} is already used at {first.source}:{first.line}",
            )


def _reasons(policies: list[PolicyText]) -> str:
    sentences = [p.annotations.get("reason") or f"policy {p.name}" for p in policies]
    return "; ".join(dict.fromkeys(sentences)) or "allowed"
