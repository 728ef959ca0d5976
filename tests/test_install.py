"""Set-up installs within constraints.txt (scripts/pin.sh): every pin must lie inside pyproject.toml's
ranges, or a fresh clone's install fails to resolve."""

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import REPO

# Never installed by set-up or the test command, so not pinned.
UNPINNED_EXTRAS = {"bench"}


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_every_dependency_set_up_installs_is_pinned_inside_its_range():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *(requirement for extra, requirements in extras.items()
                                          if extra not in UNPINNED_EXTRAS for requirement in requirements)]
    pins = _pins()
    problems = []
    for text in wanted:
        requirement = Requirement(text)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{text}: constraints.txt pins {pinned}")
    assert not problems, "run scripts/pin.sh in a .venv set up from pyproject.toml: " + "; ".join(problems)
    assert len(pins) > len(wanted)  # their own dependencies are pinned too
