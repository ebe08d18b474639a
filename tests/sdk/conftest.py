"""Fixtures for the conformance suites: each test gets its own imgemu process on a random port.

The binary is taken from $IMGEMU_BIN (scripts/test sets it to the freshly built one). A test asks
for extra flags with ``@pytest.mark.imgemu_args("--auth", "strict")``.
"""

import os
import subprocess
from dataclasses import dataclass

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pytest_configure(config):
    config.addinivalue_line("markers", "imgemu_args(*flags): extra flags for the emulator process")


@dataclass
class Emulator:
    """A running emulator process."""

    url: str
    process: subprocess.Popen

    def control(self, method, path, **kwargs):
        """Calls the /_imgemu control plane."""
        return requests.request(method, f"{self.url}/_imgemu{path}", timeout=10, **kwargs)


@pytest.fixture
def emulator(request):
    binary = os.environ.get("IMGEMU_BIN", os.path.join(ROOT, "target", "debug", "imgemu"))
    if not os.path.exists(binary):
        pytest.fail(f"imgemu binary not found at {binary}: run cargo build or scripts/test")
    marker = request.node.get_closest_marker("imgemu_args")
    extra = list(marker.args) if marker else []
    env = dict(os.environ, IMGEMU_LOG_LEVEL="warn")
    process = subprocess.Popen(
        [binary, "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    ready = process.stdout.readline()
    url = next((w for w in ready.split() if w.startswith("http://")), None)
    if url is None:
        process.kill()
        pytest.fail(f"no ready line from imgemu: {ready!r}")
    emu = Emulator(url=url, process=process)
    assert emu.control("GET", "/health").status_code == 200
    yield emu
    process.terminate()
    assert process.wait(timeout=15) == 0, "imgemu exits 0 on SIGTERM"
