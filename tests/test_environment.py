"""The conda environment and pyproject.toml declare the same packages."""

import tomllib

import yaml

from analysis.config import ROOT


def test_env_yml_pins_exactly_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    environment = yaml.safe_load((ROOT / "env.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert set(pip_section) == declared
    assert "python=3.11" in environment["dependencies"]
