"""The package's layers and the Makefile's dependencies follow from the code, and stay so."""

import subprocess
import sys
from pathlib import Path

from analysis.config import NOTEBOOKS_DIR, ROOT
from analysis.dependencies import imported_modules, makefile_variables, notebook_dependencies

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_the_import_contracts_hold():
    """Layers, the embedded server apart, no cycle inside a subpackage (pyproject.toml's [tool.importlinter])."""
    result = subprocess.run([LINT_IMPORTS, "--config", ROOT / "pyproject.toml"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout
    assert "6 kept, 0 broken" in result.stdout


def test_a_cycle_inside_a_subpackage_breaks_a_contract(tmp_path):
    """The cycle contract can fail: two sibling modules that import each other."""
    package = tmp_path / "demo_package"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("")
    (package / "inner" / "a.py").write_text("from demo_package.inner import b\n")
    (package / "inner" / "b.py").write_text("def later():\n    from demo_package.inner import a\n")  # lazy imports count
    config = tmp_path / "contracts.ini"
    config.write_text("[importlinter]\nroot_package = demo_package\n\n[importlinter:contract:1]\nname = acyclic\n"
                      "type = acyclic_siblings\nancestors = demo_package\n")
    result = subprocess.run([LINT_IMPORTS, "--config", config], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(tmp_path), "PATH": str(LINT_IMPORTS.parent)})
    assert result.returncode == 1 and "1 broken" in result.stdout, result.stdout + result.stderr


def test_imports_are_found_wherever_they_stand():
    source = (
        "from analysis.reporting import figures\n"
        "def later():\n    from analysis.labeling.baseline import label_impression\n"
        "import analysis.data.io as io\nimport pandas\n"
    )
    assert imported_modules(source) == {
        "analysis.reporting", "analysis.reporting.figures", "analysis.labeling.baseline", "analysis.data.io"}


def test_a_notebook_depends_on_what_its_modules_import_in_turn():
    stage1 = {str(path) for path in notebook_dependencies(NOTEBOOKS_DIR / "02_stage1.py")}
    # Screening is imported only through the inputs module; the baseline only inside a function.
    assert {"analysis/labeling/screening.py", "analysis/labeling/baseline.py", "analysis/__init__.py",
            "analysis/llm/__init__.py"} <= stage1
    assert not any(path.startswith("analysis/serving/") for path in stage1)  # the pipeline talks to a server over HTTP
    data = {str(path) for path in notebook_dependencies(NOTEBOOKS_DIR / "01_data.py")}
    assert not any(path.startswith(("analysis/serving/", "analysis/evaluation/")) for path in data)
    figures = {str(path) for path in notebook_dependencies(NOTEBOOKS_DIR / "06_figures.py")}
    assert {"analysis/evaluation/bootstrap.py", "analysis/reporting/diagram.py"} <= figures


def test_the_makefile_reads_the_dependencies_from_this_module():
    makefile = (ROOT / "Makefile").read_text()
    assert "-m analysis.dependencies" in makefile
    variables = makefile_variables()
    for notebook in NOTEBOOKS_DIR.glob("*.py"):
        assert f"NOTEBOOK_DEPS_{notebook.stem} :=" in variables
    for notebook in NOTEBOOKS_DIR.glob("[0-9]*.py"):  # the numbered ones are Make targets; the prompt lab is not
        assert f"$(NOTEBOOK_DEPS_{notebook.stem})" in makefile, f"the Makefile's rule for {notebook.name} ignores its dependencies"
