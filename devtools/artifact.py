"""Build the deploy artifact with `sam build` and run each function's handler from it, as Lambda does.

What Lambda gives a Python 3.13 function is rebuilt here, and nothing more:

- the task root is the function's build folder, the layer's content is its `python/` folder
  (Lambda's /opt/python), and after them the runtime's own packages (boto3, botocore and their
  dependencies, which Lambda ships in the runtime): copied from this venv's installed
  distributions into a cache folder, file by file from their RECORDs, so no network is needed;
- the interpreter is CPython 3.13 run with `-I -S`: no PYTHONPATH, no user site, no script
  folder and no site-packages at all (`-S`), so the venv's packages cannot stand in for a
  dependency the requirements files forget;
- the environment is the function's own, resolved from the *built* template (Globals plus the
  function's variables, Parameters, `!Ref`, `!Sub`, `!If`), plus Lambda's variables
  (`AWS_LAMBDA_FUNCTION_NAME`, `LAMBDA_TASK_ROOT`, `_X_AMZN_TRACE_ID`, ...) so that Powertools
  runs as in Lambda, tracing included.

`python -m devtools.artifact` builds for x86_64, runs every function against moto (server mode)
and the sample feeds, and prints cold start, durations and peak memory per function: the
measurements behind each function's MemorySize and Timeout.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.dependencies import closure
from devtools.template import load_template as load_cfn_template

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PACKAGES = ("boto3",)  # with their dependencies: what the Lambda python3.13 runtime provides

# Run inside the child interpreter: lay out sys.path as Lambda does, import the handler (the
# init phase), invoke it once per event, and write results and measurements to a file (stdout
# is the function's log stream, which the caller reads separately).
DRIVER = r"""
import json, resource, sys, time
task_root, layer, runtime_dir, out_path = sys.argv[1:5]
sys.path[:0] = [task_root, layer, runtime_dir]
events = json.load(sys.stdin)
started = time.perf_counter()
import app
init_ms = (time.perf_counter() - started) * 1000

class Context:
    def __init__(self, n):
        import os
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + self.function_name
        self.aws_request_id = "00000000-0000-4000-8000-%012d" % n
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + int(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"])
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

invocations = []
for n, event in enumerate(events):
    started = time.perf_counter()
    try:
        result = app.lambda_handler(event, Context(n))
        error = None
    except Exception as exc:
        result, error = None, f"{type(exc).__name__}: {exc}"
    invocations.append({"result": result, "error": error, "ms": (time.perf_counter() - started) * 1000})
    sys.stdout.flush()

modules = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""})
with open(out_path, "w") as fh:
    json.dump({
        "init_ms": init_ms,
        "invocations": invocations,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "modules": modules,
        "stdlib": sys.base_prefix,
    }, fh, default=str)
"""


# -- finding the tools ---------------------------------------------------------------------------


def find_sam() -> Path | None:
    for candidate in (os.environ.get("SAM_CLI"), str(ROOT / ".venv-sam" / "bin" / "sam"), shutil.which("sam")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def find_python313() -> Path | None:
    """A CPython 3.13 executable: Lambda's python3.13 runtime is what the artifact must run on."""
    if sys.version_info[:2] == (3, 13):
        # The base interpreter, not the venv's shim: `-S` then leaves no site-packages at all.
        return Path(getattr(sys, "_base_executable", sys.executable))
    env = {**os.environ, "PYENV_VERSION": "3.13.0"}
    for name in ("python3.13", "python3"):
        found = shutil.which(name)
        if not found:
            continue
        probe = subprocess.run(
            [found, "-c", "import sys; print(sys.version_info[:2] == (3, 13)); print(sys.executable)"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        lines = probe.stdout.split()
        if probe.returncode == 0 and lines and lines[0] == "True":
            return Path(lines[1])
    return None


def build_inputs_digest(sam: Path, python313: Path, architecture: str, *, root: Path = ROOT) -> str:
    """A digest of everything `sam build` reads for this template: template.yaml, samconfig.toml, every file
    under the folders it builds from (functions/ and shared/, bytecode caches left out: Python
    writes them there when the tests import the code, and sam packages none), the tools and the
    architecture."""
    import hashlib

    digest = hashlib.sha256()
    for part in (architecture, str(sam), str(python313)):
        digest.update(part.encode() + b"\0")
    for tool in (sam, python313):
        stat = tool.stat()
        digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode() + b"\0")
    # samconfig.toml: `sam build` reads its [default.build] and [default.global] parameters.
    files = [root / "template.yaml", *[config for config in [root / "samconfig.toml"] if config.exists()]]
    for folder in ("functions", "shared"):
        files += sorted(
            p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def sam_build(sam: Path, python313: Path, target: Path, *, architecture: str = "x86_64") -> Path:
    """`sam build` of template.yaml, copied to `target`; returns the built template's path there.

    The build happens in .aws-sam/artifact-<arch>/ with `--cached`, so an unchanged layer is not
    pip-installed again, and not at all when nothing it reads changed since the last build there
    (`build_inputs_digest`, kept beside it): that build is what `sam build` would make again. A
    file lock keeps concurrent test runs on one machine from building into it at once. Each run
    gets its own copy, its files hard links to the build's: a new build starts from an empty
    folder, so a copy a run still uses keeps the files it linked.
    """
    import fcntl

    home = ROOT / ".aws-sam" / f"artifact-{architecture}"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "PYENV_VERSION": "3.13.0",
        # sam looks for `python3.13` on PATH to build the python3.13 runtime's packages.
        "PATH": f"{python313.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(sam),
        "build",
        "--template-file",
        str(ROOT / "template.yaml"),
        "--build-dir",
        str(home / "build"),
        "--cached",
        "--cache-dir",
        str(home / "cache"),
        "--parallel",
        "--parameter-overrides",
        f"Architecture={architecture}",
    ]
    built_from = home / "build.inputs"
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        inputs = build_inputs_digest(sam, python313, architecture)
        fresh = built_from.exists() and built_from.read_text() == inputs and (home / "build" / "template.yaml").exists()
        if not fresh:
            built_from.unlink(missing_ok=True)
            shutil.rmtree(home / "build", ignore_errors=True)
            result = subprocess.run(
                command, cwd=home, env=env, capture_output=True, text=True, timeout=600, check=False
            )
            if result.returncode != 0:
                raise RuntimeError(
                    f"sam build failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
                )
            built_from.write_text(inputs)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(home / "build", target, symlinks=True, copy_function=_link_or_copy)
    return target / "template.yaml"


def _link_or_copy(source: str, destination: str) -> None:
    """A hard link, as cheap as a copy is not; a copy where the target is on another file
    system (a tmpfs /tmp), which refuses a link with EXDEV. A linked file is the build's own:
    nothing writes into a copy (the handlers run from it with -B, no bytecode)."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def runtime_packages(cache: Path, roots: Sequence[str] = RUNTIME_PACKAGES) -> Path:
    """A folder holding what the Lambda runtime itself provides (boto3 and its dependencies).

    Copied from the installed distributions of this interpreter's environment (the versions
    pinned in requirements-lock.txt), listed by their RECORD files, so the folder holds exactly
    those distributions and nothing else.
    """
    names = sorted(closure(roots))
    versions = sorted(f"{n}=={importlib.metadata.version(n)}" for n in names)
    target = cache / ("runtime-" + "-".join(v.replace("==", "_") for v in versions if v.startswith("boto3")))
    marker = target / ".complete"
    if marker.exists() and marker.read_text() == "\n".join(versions):
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in names:
        dist = importlib.metadata.distribution(name)
        for file in dist.files or []:
            if file.suffix == ".pyc" or str(file).startswith(".."):
                continue
            source = Path(str(dist.locate_file(file)))
            if source.is_file():
                destination = target / file
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)
    marker.write_text("\n".join(versions))
    return target


# -- the built template ----------------------------------------------------------------------------


def load_template(path: Path) -> dict[str, Any]:
    """A (built) template with CloudFormation's short-form tags kept, via the one shared loader."""
    return copy.deepcopy(load_cfn_template(path))


@dataclass
class Resolver:
    """Evaluates the intrinsic functions that appear in environment variables."""

    template: Mapping[str, Any]
    parameters: dict[str, str]
    resources: Mapping[str, str]  # logical id (or "Id.Attr") -> local value
    stack_name: str = "newsroom-local"
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        for name, spec in (self.template.get("Parameters") or {}).items():
            self.parameters.setdefault(name, str(spec.get("Default", "")))

    def ref(self, name: str) -> str:
        pseudo = {"AWS::StackName": self.stack_name, "AWS::Region": self.region, "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name]
        raise KeyError(f"no local value for !Ref {name}: give it in `resources`")

    def condition(self, name: str) -> bool:
        return bool(self.value((self.template.get("Conditions") or {})[name]))

    def value(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                dotted = ".".join(arg) if isinstance(arg, list) else str(arg)
                if dotted not in self.resources:
                    raise KeyError(f"no local value for !GetAtt {dotted}: give it in `resources`")
                return self.resources[dotted]
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                return re.sub(r"\$\{([^}!]+)\}", lambda m: str(self.ref(m.group(1))), text)
            if key == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                return str(self.value(arg[0])) == str(self.value(arg[1]))
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Condition":
                return self.condition(arg)
        if isinstance(node, bool):
            return "true" if node else "false"
        return node


def functions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: dict(res.get("Properties") or {})
        for name, res in (template.get("Resources") or {}).items()
        if res.get("Type") == "AWS::Serverless::Function"
    }


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path  # the function's build folder (the task root)
    handler: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]


def function_spec(built_template: Path, logical_id: str, resolver: Resolver) -> FunctionSpec:
    template = load_template(built_template)
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    props = functions(template)[logical_id]
    env_nodes = dict((globals_fn.get("Environment") or {}).get("Variables") or {})
    env_nodes.update((props.get("Environment") or {}).get("Variables") or {})
    environment = {key: str(resolver.value(node)) for key, node in env_nodes.items()}
    return FunctionSpec(
        logical_id=logical_id,
        code_dir=built_template.parent / str(props.get("CodeUri", logical_id)),
        handler=str(props.get("Handler") or globals_fn.get("Handler")),
        memory_mb=int(resolver.value(props.get("MemorySize", globals_fn.get("MemorySize", 128)))),
        timeout_s=int(resolver.value(props.get("Timeout", globals_fn.get("Timeout", 3)))),
        environment=environment,
    )


# -- running -------------------------------------------------------------------------------------


@dataclass
class Run:
    logical_id: str
    init_ms: float
    invocations: list[dict[str, Any]]
    max_rss_mb: float
    modules: list[str]
    stdlib: str
    log_lines: list[str] = field(default_factory=list)
    stderr: str = ""

    @property
    def results(self) -> list[Any]:
        return [i["result"] for i in self.invocations]


def run_function(
    python313: Path,
    spec: FunctionSpec,
    layer: Path,
    runtime_dir: Path,
    events: Sequence[Mapping[str, Any]],
    *,
    extra_env: Mapping[str, str],
    workdir: Path,
) -> Run:
    """One execution environment: import the handler once (cold start), then invoke it per event."""
    if spec.handler != "app.lambda_handler":
        raise ValueError(f"{spec.logical_id}: only app.lambda_handler handlers are run here, not {spec.handler}")
    out = workdir / f"{spec.logical_id}-{uuid.uuid4().hex[:8]}.json"
    trace_id = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.logical_id}",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "_HANDLER": spec.handler,
        "_X_AMZN_TRACE_ID": f"Root={trace_id};Parent={uuid.uuid4().hex[:16]};Sampled=1",
        **spec.environment,
        **extra_env,
    }
    result = subprocess.run(
        [str(python313), "-I", "-S", "-B", "-c", DRIVER, str(spec.code_dir), str(layer), str(runtime_dir), str(out)],
        input=json.dumps(list(events)),
        capture_output=True,
        text=True,
        env=env,
        cwd=str(spec.code_dir),
        timeout=max(60, spec.timeout_s * len(events)),
        check=False,
    )
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"{spec.logical_id} crashed (exit {result.returncode}):\n{result.stderr[-6000:]}")
    data = json.loads(out.read_text())
    return Run(
        logical_id=spec.logical_id,
        init_ms=float(data["init_ms"]),
        invocations=list(data["invocations"]),
        max_rss_mb=int(data["max_rss_kb"]) / 1024,
        modules=list(data["modules"]),
        stdlib=str(data["stdlib"]),
        log_lines=[line for line in result.stdout.splitlines() if line.strip()],
        stderr=result.stderr,
    )


class UdpSink:
    """A UDP socket on 127.0.0.1 standing in for the X-Ray daemon; counts the segments sent to it."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.setblocking(False)

    @property
    def address(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"{host}:{port}"

    def drain(self) -> list[bytes]:
        datagrams: list[bytes] = []
        while True:
            try:
                datagrams.append(self._sock.recv(65536))
            except BlockingIOError:
                return datagrams

    def close(self) -> None:
        self._sock.close()


# -- the whole stack: moto, sample feeds, the built functions -------------------------------------


def _events(prefix: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "events").glob(f"{prefix}*.json"))]


class ArtifactStack:
    """moto in server mode and the sample feeds on 127.0.0.1, and every built function wired to them."""

    def __init__(
        self,
        sam: Path | None,
        python313: Path,
        workdir: Path,
        *,
        built_template: Path | None = None,
        architecture: str = "x86_64",
    ) -> None:
        self.sam = sam
        self.python313 = python313
        self.workdir = workdir
        self.built_template = built_template
        self.architecture = architecture
        self.specs: dict[str, FunctionSpec] = {}

    def __enter__(self) -> ArtifactStack:
        import boto3

        from devtools.moto_local import moto_server
        from devtools.sample_server import SampleServer
        from devtools.template import create_resources

        if self.built_template is None:
            if self.sam is None:
                raise RuntimeError("no built template and no sam to build one")
            self.built_template = sam_build(
                self.sam, self.python313, self.workdir / "build", architecture=self.architecture
            )
        self._moto = moto_server()
        host, port = self._moto.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        creds = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "region_name": "us-east-1"}
        self.dynamodb = boto3.client("dynamodb", endpoint_url=self.endpoint, **creds)
        self.sqs = boto3.client("sqs", endpoint_url=self.endpoint, **creds)
        prefix = f"artifact{uuid.uuid4().hex[:6]}"
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, **creds)
        self.resources = create_resources(self.dynamodb, self.sqs, prefix=prefix, s3=self.s3)
        self.fetch_queue_url = self.resources.fetch_queue_url
        self.fetch_queue_arn = self.resources.fetch_queue_arn
        fetch_dlq_url = self.sqs.get_queue_url(QueueName=f"{prefix}-FetchDeadLetterQueue")["QueueUrl"]
        self.samples = SampleServer().start()
        self.sources_file = self.samples.sources_file(self.workdir / "sources.json")
        self.xray = UdpSink()
        self.runtime_dir = runtime_packages(self.workdir.parent / "lambda-runtime")
        self.layer = self.built_template.parent / "SharedLayer" / "python"
        template = load_template(self.built_template)
        resolver = Resolver(
            template,
            parameters={
                "Architecture": self.architecture,
                "SourcesFile": str(self.sources_file),
                "PriceApiBaseUrl": f"{self.samples.base_url}/api/v3",
            },
            resources={
                "NewsTable": self.resources.table_name,
                "ArticleQueue": self.resources.queue_url,
                "ArticleDeadLetterQueue": self.resources.dead_letter_queue_url,
                "FetchQueue": self.fetch_queue_url,
                "FetchDeadLetterQueue": fetch_dlq_url,
                "EntryBucket": self.resources.entry_bucket,
                "NewsApi": "local",  # the API's id, in the callback URL the fetcher gives hubs
            },
        )
        for logical_id in functions(template):
            self.specs[logical_id] = function_spec(self.built_template, logical_id, resolver)
        return self

    def __exit__(self, *exc: object) -> None:
        self.samples.stop()
        self._moto.stop()
        self.xray.close()

    def extra_env(self) -> dict[str, str]:
        """What only this stand-in needs: the AWS endpoint, dummy credentials, loopback feeds."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "ALLOW_PRIVATE_NETWORK": "true",
            "AWS_XRAY_DAEMON_ADDRESS": self.xray.address,
        }

    def run(self, logical_id: str, events: Sequence[Mapping[str, Any]]) -> Run:
        return run_function(
            self.python313,
            self.specs[logical_id],
            self.layer,
            self.runtime_dir,
            events,
            extra_env=self.extra_env(),
            workdir=self.workdir,
        )

    def queued_event(self, queue_url: str | None = None, queue_arn: str | None = None) -> dict[str, Any]:
        """What the SQS event source would hand a function: up to 10 queued messages (the article
        queue unless another is named)."""
        from devtools.lambda_local import sqs_event

        resp = self.sqs.receive_message(
            QueueUrl=queue_url or self.resources.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        )
        return sqs_event(resp.get("Messages", []), queue_arn or self.resources.queue_arn)

    def run_all(self) -> list[Run]:
        """Every function, in pipeline order, each with the events it gets in production.

        A function this does not know fails loudly: a new function needs its scenario here.
        """
        schedule = _events("fetch_feeds")[0]
        scenarios: dict[str, Any] = {
            # The dispatcher queues the due sources; the fetch worker polls them from its SQS batch,
            # then (a schedule event: every source) once more, when every feed answers 304.
            "DispatchSourcesFunction": lambda: [schedule],
            "FetchFeedsFunction": lambda: (
                [self.queued_event(self.fetch_queue_url, self.fetch_queue_arn), schedule]
                if "DispatchSourcesFunction" in self.specs
                else [schedule, schedule]
            ),
            "ProcessArticlesFunction": lambda: [self.queued_event(), *_events("process_articles")],
            "FetchPricesFunction": lambda: [_events("fetch_prices")[0]] * 2,
            "ApiFunction": lambda: _events("api_"),
            # A hub calling about a subscription we never asked for: 404 and an ignored delivery.
            "WebSubCallbackFunction": lambda: _events("websub_callback"),
        }
        unknown = sorted(set(self.specs) - set(scenarios))
        if unknown:
            raise KeyError(f"functions with no scenario in devtools/artifact.py: {unknown}")
        return [self.run(logical_id, make()) for logical_id, make in scenarios.items() if logical_id in self.specs]


# -- `python -m devtools.artifact`: the measurements behind MemorySize and Timeout --------------------


def main(argv: list[str] | None = None) -> int:
    import tempfile

    del argv
    sam, python313 = find_sam(), find_python313()
    if sam is None or python313 is None:
        print("needs aws-sam-cli (make sam) and a CPython 3.13", file=sys.stderr)
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="newsroom-artifact-") as tmp,
        ArtifactStack(sam, python313, Path(tmp)) as stack,
    ):
        runs = stack.run_all()
        print(
            f"{'function':<26} {'memory':>7} {'timeout':>8} {'init ms':>8} {'1st ms':>8} {'next ms':>8} {'peak MB':>8}"
        )
        for run in runs:
            spec = stack.specs[run.logical_id]
            times = [i["ms"] for i in run.invocations]
            rest = sum(times[1:]) / len(times[1:]) if len(times) > 1 else float("nan")
            print(
                f"{run.logical_id:<26} {spec.memory_mb:>8} {spec.timeout_s:>8} {run.init_ms:>8.0f} "
                f"{times[0]:>8.0f} {rest:>8.0f} {run.max_rss_mb:>8.1f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
