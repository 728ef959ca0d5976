"""Check every package installed in .venv against a local copy of the PyPA advisory database.

    git clone https://github.com/pypa/advisory-database   # or any copy of it: no network needed after
    .venv/bin/python scripts/audit.py path/to/advisory-database [--json]

pip-audit needs pypi.org's JSON API or osv.dev at run time, which this environment cannot reach;
this reads the same advisories (the PYSEC records pip-audit's PyPI service reports, in OSV form)
from disk. A package version is affected when an advisory's ECOSYSTEM range holds it or its list
of versions names it. Exit status 1 when anything installed is affected.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("advisories", help="a checkout of github.com/pypa/advisory-database")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = Path(args.advisories)
    if not (root / "vulns").is_dir():
        parser.error(f"{root} has no vulns/ folder; give a checkout of github.com/pypa/advisory-database")
    installed = {_normal(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    findings = [finding for name, version in sorted(installed.items()) for finding in _affecting(root, name, version)]
    report = {"packages": len(installed), "database": _revision(root), "affected": findings}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(installed)} installed packages checked against the PyPA advisory database ({report['database']})")
        for finding in findings:
            print(f"  {finding['package']} {finding['version']}: {finding['id']} ({', '.join(finding['aliases'])}); "
                  f"fixed in {finding['fixed'] or 'no release yet'}")
        print(f"{len(findings)} known vulnerabilit{'y' if len(findings) == 1 else 'ies'} affect what is installed")
    return 1 if findings else 0


def _affecting(root: Path, name: str, version: str) -> list[dict]:
    import yaml
    from packaging.version import InvalidVersion, Version

    found = []
    for path in sorted((root / "vulns" / name).glob("*.yaml")):
        advisory = yaml.safe_load(path.read_text(encoding="utf-8"))
        for affected in advisory.get("affected", []):
            if _normal(affected.get("package", {}).get("name", "")) != name:
                continue
            fixes = [event["fixed"] for span in affected.get("ranges", []) if span.get("type") == "ECOSYSTEM"
                     for event in span.get("events", []) if "fixed" in event]
            try:
                hit = version in affected.get("versions", []) or any(
                    _in_range(Version(version), span["events"]) for span in affected.get("ranges", [])
                    if span.get("type") == "ECOSYSTEM")
            except InvalidVersion:
                continue
            if hit:
                found.append({"package": name, "version": version, "id": advisory["id"],
                              "aliases": advisory.get("aliases", []), "fixed": ", ".join(map(str, fixes))})
    return found


def _in_range(version, events: list[dict]) -> bool:
    """OSV semantics: events in order; 'introduced' opens a range, 'fixed' closes it before, 'last_affected' after."""
    from packaging.version import Version

    affected = False
    for event in events:
        if "introduced" in event and (event["introduced"] == "0" or version >= Version(str(event["introduced"]))):
            affected = True
        elif "fixed" in event and version >= Version(str(event["fixed"])):
            affected = False
        elif "last_affected" in event and version > Version(str(event["last_affected"])):
            affected = False
    return affected


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _revision(root: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(root), "log", "-1", "--format=commit %h of %cs"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "revision unknown"


if __name__ == "__main__":
    sys.exit(main())
