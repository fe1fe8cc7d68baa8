"""SC-20 masking (脱敏): per destination class, what happens to each class of personal information.

The policy is data in SC-20's ``standard.json``: ``fieldClasses`` says which field names hold personal
information (a citizen ID, a phone number, another person's name…), optionally only when a sibling field
says the party is a natural person; ``profiles`` says, per destination (``internal``, ``national``,
``partner`` 川渝, ``public`` 公示), whether each class is kept, dropped or masked. Every mask is
idempotent, so a record is compliant exactly when masking it changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from standards.errors import UnknownDestination
from standards.findings import escape_pointer

__all__ = ["ACTIONS", "FieldClass", "MaskingPolicy", "Violation", "mask", "policy"]


def _mask_id(value: str) -> str:
    """前6后4: ``510104199001011234`` → ``510104********1234``."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _mask_phone(value: str) -> str:
    """前3后4: ``13812345678`` → ``138****5678``."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def _mask_name(value: str) -> str:
    """Keep the family name: ``张三丰`` → ``张**``."""
    return value[:1] + "*" * (len(value) - 1)


_DISTRICT: Final = re.compile(r"^.*?[区县旗]")
_CITY: Final = re.compile(r"^.*?市")


def _district(value: str) -> str:
    """Keep the address up to its district or county: ``成都市武侯区某路1号`` → ``成都市武侯区``."""
    found = _DISTRICT.match(value) or _CITY.match(value)
    return found.group() if found else ""


ACTIONS: Final[dict[str, Callable[[str], str] | None]] = {
    "keep": None,
    "drop": None,
    "mask_id": _mask_id,
    "mask_phone": _mask_phone,
    "mask_name": _mask_name,
    "district": _district,
}


@dataclass(frozen=True, slots=True)
class FieldClass:
    """A field name holding personal information of one class, possibly only for natural persons."""

    name: str
    cls: str
    when_field: str | None = None
    when_in: tuple[str, ...] = ()

    def applies(self, container: Mapping[str, Any]) -> bool:
        """Whether the field holds personal information in this object (e.g. the party is a person)."""
        if self.when_field is None:
            return True
        return container.get(self.when_field) in self.when_in


@dataclass(frozen=True, slots=True)
class Violation:
    """A field that is not masked as the destination's profile requires."""

    pointer: str
    field: str
    cls: str
    action: str


@dataclass(frozen=True, slots=True)
class MaskingPolicy:
    """Field classes and destination profiles from one version of SC-20."""

    fields: Mapping[str, FieldClass]
    profiles: Mapping[str, Mapping[str, str]]
    overrides: Mapping[str, Mapping[str, Mapping[str, str]]] = field(
        default_factory=dict
    )  # standard -> dest -> class -> action

    @classmethod
    def from_data(cls, extra: Mapping[str, Any]) -> MaskingPolicy:
        """Build the policy from SC-20's ``fieldClasses`` and ``profiles``."""
        fields = {
            name: FieldClass(name, spec["class"], spec.get("whenField"), tuple(spec.get("whenIn", ())))
            for name, spec in extra["fieldClasses"].items()
        }
        profiles = {dest: dict(actions) for dest, actions in extra["profiles"].items()}
        for dest, actions in profiles.items():
            unknown = set(actions.values()) - set(ACTIONS)
            if unknown:
                raise ValueError(f"profile {dest}: unknown actions {sorted(unknown)}")
        return cls(fields, profiles, extra.get("overrides", {}))

    def profile(self, destination: str, standard: str | None = None) -> Mapping[str, str]:
        """The class → action table of a destination with the standard's overrides (or UnknownDestination)."""
        try:
            base = self.profiles[destination]
        except KeyError:
            raise UnknownDestination(
                f"{destination!r} is not a destination class ({', '.join(sorted(self.profiles))})"
            ) from None
        special = self.overrides.get(standard or "", {}).get(destination)
        return {**base, **special} if special else base

    def personal_class(self, record: Mapping[str, Any], pointer: str) -> str | None:
        """The personal-information class of the field at ``pointer`` of ``record`` (``idNumber``…), or
        None when SC-20 does not class it as personal there (e.g. the party is an organisation)."""
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        container: Any = record
        for part in parts[:-1]:
            if isinstance(container, list) and part.isdigit() and int(part) < len(container):
                container = container[int(part)]
            elif isinstance(container, dict):
                container = container.get(part)
            else:
                return None
        spec = self.fields.get(parts[-1]) if parts else None
        if spec is None or not isinstance(container, dict) or not spec.applies(container):
            return None
        return spec.cls

    def removes(
        self, record: Mapping[str, Any], pointer: str, destination: str, standard: str | None = None
    ) -> bool:
        """True when ``destination``'s profile drops the field at ``pointer`` of ``record`` (so a record
        bound there may lack it, even where a rule would otherwise require it)."""
        cls = self.personal_class(record, pointer)
        return cls is not None and self.profile(destination, standard).get(cls, "keep") == "drop"

    def _walk(
        self, node: Any, pointer: str, profile: Mapping[str, str]
    ) -> Iterator[tuple[str, dict[str, Any], str, str]]:
        """(pointer, container, key, action) for every personal field whose action is not ``keep``."""
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{pointer}/{escape_pointer(key)}"
                spec = self.fields.get(key)
                if spec is not None and spec.applies(node):
                    action = profile.get(spec.cls, "keep")
                    if action != "keep" and value not in (None, ""):
                        yield here, node, key, action
                        continue
                yield from self._walk(value, here, profile)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                yield from self._walk(item, f"{pointer}/{index}", profile)

    def mask(
        self, record: Mapping[str, Any], destination: str, standard: str | None = None
    ) -> dict[str, Any]:
        """A masked deep copy of ``record`` for ``destination``; the input is not changed."""
        profile = self.profile(destination, standard)
        copy: dict[str, Any] = _deep_copy(record)
        for _pointer, container, key, action in list(self._walk(copy, "", profile)):
            masker = ACTIONS[action]
            value = container[key]
            if masker is None:
                del container[key]
            elif isinstance(value, str):
                container[key] = masker(value)
            elif isinstance(value, list):
                container[key] = [masker(v) if isinstance(v, str) else v for v in value]
            else:
                del container[key]
        return copy

    def violations(
        self, record: Mapping[str, Any], destination: str, standard: str | None = None
    ) -> list[Violation]:
        """The personal fields of ``record`` that are not yet masked for ``destination``."""
        profile = self.profile(destination, standard)
        found: list[Violation] = []
        for pointer, container, key, action in self._walk(record, "", profile):
            masker = ACTIONS[action]
            value = container[key]
            if masker is None or _changes(masker, value):
                found.append(Violation(pointer, key, self.fields[key].cls, action))
        return found


def _changes(masker: Callable[[str], str], value: Any) -> bool:
    if isinstance(value, str):
        return masker(value) != value
    if isinstance(value, list):
        return any(isinstance(v, str) and masker(v) != v for v in value)
    return True


def _deep_copy(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {k: _deep_copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_deep_copy(v) for v in node]
    return node


def policy(version: str | None = None) -> MaskingPolicy:
    """The masking policy of SC-20 (the newest version unless one is named)."""
    from standards.catalogue import catalogue

    return MaskingPolicy.from_data(catalogue().get("SC-20", version).extra)


def mask(record: Mapping[str, Any], destination: str, *, standard: str | None = None) -> dict[str, Any]:
    """Mask ``record`` for a destination class per SC-20 (internal, national, partner, public).

    ``standard`` (``SC-13``) applies that standard's exceptions, e.g. clue transfers keep the party's number.
    """
    return policy().mask(record, destination, standard)
