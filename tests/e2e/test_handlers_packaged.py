"""Each handler imports from exactly what `sam build` packages: its own folder plus the layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _function_dirs() -> list[str]:
    from devtools.template import load_template

    resources = load_template()["Resources"].values()
    return sorted(Path(r["Properties"]["CodeUri"]).name for r in resources if r["Type"] == "AWS::Serverless::Function")


def test_every_function_folder_is_in_the_template() -> None:
    on_disk = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
    assert _function_dirs() == on_disk


@pytest.mark.parametrize("function_dir", _function_dirs())
def test_handler_imports_with_only_its_code_and_the_layer(function_dir: str) -> None:
    # -I: no PYTHONPATH, no user site, no script dir. The path is the function's folder (task root)
    # then the layer's content (/opt/python), as Lambda orders them.
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; "
        "import app; assert callable(app.lambda_handler); "
        "import newsroom; assert newsroom.__file__.startswith(sys.argv[2]), newsroom.__file__"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code, str(ROOT / "functions" / function_dir), str(ROOT / "shared")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env={"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_layer_requirements_cover_every_third_party_import() -> None:
    import ast

    allowed = {"boto3", "botocore"}  # provided by the Lambda runtime
    pinned = {
        line.split("==")[0].strip().lower().replace("-", "_")
        for line in (ROOT / "shared" / "requirements.txt").read_text().splitlines()
        if "==" in line
    }
    stdlib = set(sys.stdlib_module_names)
    missing: set[str] = set()
    for path in [*(ROOT / "shared" / "newsroom").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in stdlib or top == "newsroom" or top in allowed:
                    continue
                if top not in pinned:
                    missing.add(top)
    assert not missing, f"imported but not pinned in shared/requirements.txt: {sorted(missing)}"
