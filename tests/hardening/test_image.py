"""The Docker image as written: small context, two stages, pinned uv, non-root, health-checked.

No Docker daemon runs here (and base images cannot be pulled), so the files are checked as text.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _ignored() -> set[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_the_context_leaves_out_data_environments_and_history():
    assert {"var", ".venv", ".git", "test-results", ".pytest_cache", ".ruff_cache"} <= _ignored()


def test_no_stray_wheel_at_the_root():
    assert list(ROOT.glob("*.whl")) == []


def test_uv_is_pinned_to_one_version_everywhere():
    docker = re.search(r"ARG UV_VERSION=(\S+)", DOCKERFILE)
    script = (ROOT / "deploy/local/system-packages.sh").read_text()
    local = re.search(r'UV_VERSION="\$\{UV_VERSION:-(\S+)\}"', script)
    assert docker and local and docker.group(1) == local.group(1)
    assert '"uv==${UV_VERSION}"' in DOCKERFILE and '"uv==$UV_VERSION"' in script


def test_two_stages_and_the_runtime_has_no_build_tools():
    stages = re.findall(r"^FROM \S+ AS (\w+)", DOCKERFILE, re.MULTILINE)
    assert stages == ["build", "runtime"]
    runtime = DOCKERFILE.split("AS runtime", 1)[1]
    assert "COPY --from=build /opt/venv /opt/venv" in runtime
    for tool in ("gcc", "build-essential", "-dev ", "uv sync", "pip install"):
        assert tool not in runtime, tool


def test_runs_as_a_user_collects_static_and_checks_health():
    runtime = DOCKERFILE.split("AS runtime", 1)[1]
    assert re.search(r"^USER crimemap$", runtime, re.MULTILINE)
    assert "manage.py collectstatic" in runtime
    assert re.search(
        r"^HEALTHCHECK .*\n\s+CMD \[\"python\", \"deploy/healthcheck.py\"\]", runtime, re.MULTILINE
    )
    assert "/healthz" in (ROOT / "deploy/healthcheck.py").read_text()
