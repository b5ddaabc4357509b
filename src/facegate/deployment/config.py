"""Register a deployment's books from a TOML or JSON document.

The document has optional ``[processor]``, ``[[sites]]`` and ``[[purposes]]``
tables. Every text a person reads is a table of its words per language
(``name = { zh = "示例办公有限公司", en = "Example Office Ltd" }``; a single string is
filed under the language its script shows, and a purpose goes live only when each
text has every language its profile requires). An alternative is ``{ key = "badge",
name = { zh = ..., en = ... } }``. A purpose may carry its ``notice`` (the deployer's
own words added to what is generated from its records: item -> {zh, en}; at least
``accessibility``) and its ``assessment`` (items -> {zh, en}, plus ``signed_by``), a
``calibration`` (``data``, ``population``, optional ``target_fmr``, ``pairs_file``,
``groups_file``: the purpose's threshold measured on labelled photos of the people it serves,
which an identification purpose needs before it can go live, R21), a ``review``
(``reviewers``: distinct confirmations per identification hit, at least the jurisdiction's;
``window_minutes``, R19), and ``activate = true`` to put it live at once. Everything goes
through the same :class:`Deployment` calls, so every rule applies.
``examples/deployment.toml`` is a complete example.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument
from .core import Deployment

__all__ = ["apply_config", "read_config"]


def read_config(path: str | Path) -> dict[str, Any]:
    """Parse a ``.toml`` or ``.json`` file.

    Raises:
        InvalidArgument: unreadable or malformed.
    """
    file = Path(path)
    try:
        text = file.read_text("utf-8")
        data = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"cannot read {file}: {exc}", details={"path": str(file)}) from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"{file} must hold a table", details={"path": str(file)})
    return data


def _table(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"{key} must be a table", details={"key": key})
    return dict(value)


def _call(what: str, fn: Any, spec: Mapping[str, Any]) -> Any:
    try:
        return fn(**spec)
    except TypeError as exc:
        raise InvalidArgument(f"{what}: {exc}", details={"section": what}) from None


def _review(review: Any) -> dict[str, Any]:
    """A purpose's ``review`` table (``window_minutes``, ``reviewers``) as arguments."""
    r = _table({"review": review}, "review")
    unknown = sorted(set(r) - {"window_minutes", "reviewers"})
    numbers = [r.get("window_minutes", 60), r.get("reviewers", 1)]
    if unknown or any(isinstance(n, bool) or not isinstance(n, int) for n in numbers):
        raise InvalidArgument("review: window_minutes and reviewers are whole numbers, and "
                              "nothing else is set there", details={"section": "review",
                                                                     "unknown": unknown})
    return {"window": timedelta(minutes=numbers[0]), "reviewers": r.get("reviewers")}


def apply_config(deployment: Deployment, data: Mapping[str, Any]) -> list[str]:
    """Register what ``data`` describes, in order; returns one line per thing done."""
    done: list[str] = []
    if "processor" in data:
        p = _table(data, "processor")
        registered = _call("processor", deployment.register_processor, p)
        done.append(f"processor {' / '.join(registered.name.values())} "
                    f"({registered.jurisdiction})")
    for site in data.get("sites", []):
        _call("sites", deployment.register_site, site)
        done.append(f"site {site['key']}")
    for raw in data.get("purposes", []):
        spec = dict(raw)
        notice = spec.pop("notice", None)
        assessment = spec.pop("assessment", None)
        calibration = spec.pop("calibration", None)
        review = spec.pop("review", None)
        activate = bool(spec.pop("activate", False))
        _call("purposes", deployment.register_purpose, spec)
        done.append(f"purpose {spec['key']} (draft)")
        if notice is not None:
            n = deployment.publish_notice(purpose=spec["key"], content=notice)
            done.append(f"notice {spec['key']} v{n.version}")
        if assessment is not None:
            content = dict(assessment)
            signed_by = str(content.pop("signed_by", ""))
            a = deployment.sign_assessment(purpose=spec["key"], content=content,
                                           signed_by=signed_by)
            done.append(f"impact assessment {a.id} for {spec['key']}")
        if calibration is not None:
            c = _call("calibration", deployment.calibrate_purpose,
                      {"purpose": spec["key"], **_table({"c": calibration}, "c")})
            done.append(f"calibration {c.id} for {spec['key']}: threshold {c.threshold:.4f} "
                        f"at FMR {c.target_fmr:g} on {c.population}")
        if review is not None:
            s = _call("review", deployment.configure_review,
                      {"purpose": spec["key"], **_review(review)})
            done.append(f"review for {spec['key']}: {s.reviewers} distinct confirmations "
                        f"within {s.window_seconds // 60} min")
        if activate:
            deployment.activate_purpose(spec["key"])
            done.append(f"purpose {spec['key']} active")
    return done
