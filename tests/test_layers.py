"""The layer order of docs/architecture.md holds: no app imports from an app after it, no import cycle
(scripts/check_layers.py, which scripts/test.sh runs before pytest)."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _checker():
    spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts" / "check_layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_source_keeps_the_layer_order():
    assert _checker().check(ROOT / "src" / "fangfan") == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "src" / "fangfan"
    for name, body in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            (root / parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(body))
    return root


def test_an_import_against_the_order_fails_module_level_or_in_a_function(tmp_path):
    root = _tree(
        tmp_path,
        {
            "core/a.py": "def f():\n    from fangfan.regions import codes\n",
            "policy/views.py": "from fangfan.registry.models import Household\n",
            "registry/models.py": "from fangfan.policy import views\n",  # allowed: policy comes first
            "regions/codes.py": "",
        },
    )
    errors = _checker().check(root)
    assert any("core/a.py:2: core imports fangfan.regions.codes" in e for e in errors), errors
    assert any("policy/views.py:1: policy imports fangfan.registry.models" in e for e in errors), errors
    assert not any("registry/models.py" in e for e in errors)


def test_an_import_cycle_fails(tmp_path):
    root = _tree(
        tmp_path,
        {
            "regions/models.py": "def full_name():\n    from .selectors import region_path\n",
            "regions/selectors.py": "from .models import Region\n",
        },
    )
    assert _checker().check(root) == [
        "import cycle: fangfan.regions.models -> fangfan.regions.selectors -> fangfan.regions.models"
    ]


def test_an_app_imports_no_project_module(tmp_path):
    root = _tree(
        tmp_path,
        {
            "registry/x.py": "from fangfan import urls\n",
            "urls.py": "import fangfan.registry.y\n",
            "registry/y.py": "",
        },
    )
    errors = _checker().check(root)
    assert len(errors) == 1 and "registry imports fangfan.urls" in errors[0], errors
