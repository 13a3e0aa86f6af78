"""Each handler imports from exactly what `sam build` packages: its own folder plus the layer."""

from __future__ import annotations

import json
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


# One interpreter for every handler, started as Lambda's would be (-I: no PYTHONPATH, no user
# site, no script folder). It imports the whole layer first, from the layer alone, then forks a
# child per handler whose path is the function's folder (the task root) and then the layer
# (/opt/python), as Lambda orders them. Each child imports `app` on that path and checks that
# `newsroom` resolves to the layer there, not to anything in the function's folder. One
# interpreter importing the layer once, not one per handler: the layer's import is most of the
# time (classify compiles its scanners then), and it is the same for every handler.
PROBE = r"""
import importlib.machinery, json, os, pkgutil, sys, traceback
layer, dirs = sys.argv[1], sys.argv[2:]
sys.path[:0] = [layer]
import newsroom
for module in pkgutil.walk_packages(newsroom.__path__, "newsroom."):
    __import__(module.name)
results = {}
for function_dir in dirs:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            sys.path[:0] = [function_dir]
            spec = importlib.machinery.PathFinder.find_spec("newsroom", sys.path)
            assert spec is not None and spec.origin.startswith(layer), spec
            import app
            assert callable(app.lambda_handler)
            assert newsroom.__file__.startswith(layer), newsroom.__file__
            code, message = 0, ""
        except BaseException:
            code, message = 1, traceback.format_exc()
        os.write(write, message.encode())
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    results[os.path.basename(function_dir)] = {"returncode": os.waitstatus_to_exitcode(status), "stderr": message}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def imported() -> dict[str, dict[str, object]]:
    """What importing each function's handler from its folder and the layer did, by folder."""
    dirs = [str(ROOT / "functions" / name) for name in _function_dirs()]
    result = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, str(ROOT / "shared"), *dirs],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
        env={"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("function_dir", _function_dirs())
def test_handler_imports_with_only_its_code_and_the_layer(
    imported: dict[str, dict[str, object]], function_dir: str
) -> None:
    result = imported[function_dir]
    assert result["returncode"] == 0, result["stderr"]


def test_dispatcher_imports_with_only_its_code_and_the_layer(imported: dict[str, dict[str, object]]) -> None:
    result = imported["dispatch_sources"]
    assert result["returncode"] == 0, result["stderr"]


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
