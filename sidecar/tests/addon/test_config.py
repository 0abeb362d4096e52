"""The add-on's files as the Supervisor reads them: config.yaml, translations, images, and the image build."""

from __future__ import annotations

import re
import struct
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ADDON = REPO / "hold_slayer_addon"

# Transcribed from the Supervisor (supervisor/addons/options.py RE_SCHEMA_ELEMENT): an element outside this
# grammar makes the Supervisor skip the whole add-on, silently, when it reads the repository.
RE_SCHEMA_ELEMENT = re.compile(
    r"^(?:"
    r"|bool"
    r"|email"
    r"|url"
    r"|port"
    r"|device(?:\((?P<filter>subsystem=[a-z]+)\))?"
    r"|str(?:\((?P<s_min>\d+)?,(?P<s_max>\d+)?\))?"
    r"|password(?:\((?P<p_min>\d+)?,(?P<p_max>\d+)?\))?"
    r"|int(?:\((?P<i_min>-?\d+)?,(?P<i_max>-?\d+)?\))?"
    r"|float(?:\((?P<f_min>-?\d*\.?\d+)?,(?P<f_max>-?\d*\.?\d+)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<list>.+)\)"
    r")\??$"
)
RE_SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")  # supervisor/addons/validate.py
RE_PORT = re.compile(r"^\d{1,5}/(?:tcp|udp)$")
ARCHES = {"amd64", "aarch64", "armv7", "armhf", "i386"}
STARTUPS = {"initialize", "system", "services", "application", "once"}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return dict(yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8")))


def test_supervisor_keys(config: dict[str, Any]) -> None:
    for key in ("name", "version", "slug", "description", "arch"):  # the Supervisor refuses an add-on without
        assert config[key], key
    assert RE_SLUG.match(config["slug"])
    assert config["arch"] == ["amd64"]  # PJSUA2 wheels exist for x86-64 Linux only (DOCS.md says so)
    assert set(config["arch"]) <= ARCHES
    assert config["startup"] in STARTUPS
    assert config["boot"] in {"auto", "manual"}
    assert config["init"] is False  # s6-overlay v3 in the base image must be PID 1
    assert config["hassio_api"] is True  # needed to POST /discovery
    assert config["discovery"] == ["hold_slayer"]
    assert all(RE_PORT.match(port) for port in config["ports"])
    assert set(config["ports_description"]) == set(config["ports"])
    assert config["map"] == [{"type": "addon_config", "read_only": False}]


def _walk(options: Any, schema: Any, path: str = "") -> list[tuple[str, Any, str]]:
    """Pair every option with its schema element; fail on keys one has and the other lacks."""
    assert isinstance(schema, dict) and isinstance(options, dict), path
    assert set(options) == set(schema), f"{path}: options {sorted(options)} vs schema {sorted(schema)}"
    pairs: list[tuple[str, Any, str]] = []
    for key, element in schema.items():
        if isinstance(element, dict):
            pairs += _walk(options[key], element, f"{path}{key}.")
        else:
            pairs.append((f"{path}{key}", options[key], element))
    return pairs


def _accepts(element: str, value: Any) -> bool:
    """Does the Supervisor accept this default for this element? (its options.py rules, for what we use)"""
    match = RE_SCHEMA_ELEMENT.match(element)
    assert match, element
    if element.endswith("?") and value in ("", None):
        return True
    kind = element.rstrip("?").split("(")[0]
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "port":
        return isinstance(value, int) and 1 <= value <= 65535
    if kind == "int":
        low, high = int(match["i_min"]), int(match["i_max"])
        return isinstance(value, int) and low <= value <= high
    if kind == "list":
        return value in match["list"].split("|")
    if kind == "match":
        return re.fullmatch(match["match"], str(value)) is not None
    if kind == "url":
        return re.match(r"^https?://", str(value)) is not None
    return kind in {"str", "password"} and isinstance(value, str)


def test_schema_is_valid_and_defaults_fit_it(config: dict[str, Any]) -> None:
    pairs = _walk(config["options"], config["schema"])
    assert len(pairs) >= 20
    for name, value, element in pairs:
        assert RE_SCHEMA_ELEMENT.match(element), f"{name}: {element!r} is not a Supervisor schema element"
        assert _accepts(element, value), f"{name}: default {value!r} does not fit {element!r}"
    # Secrets are masked in the add-on UI.
    assert config["schema"]["trunk"]["password"] == "password?"
    assert config["schema"]["voice"]["llm_api_key"] == "password?"


def test_translations_name_every_option(config: dict[str, Any]) -> None:
    translations = yaml.safe_load((ADDON / "translations" / "en.yaml").read_text(encoding="utf-8"))
    assert set(translations["configuration"]) == set(config["options"])
    for key, text in translations["configuration"].items():
        assert text["name"] and text["description"], key


def test_version_is_the_sidecars(config: dict[str, Any]) -> None:
    """The Dockerfile installs the release tagged with the add-on's version: the two must be one."""
    project = tomllib.loads((REPO / "sidecar" / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert config["version"] == project["version"]
    assert f"## {config['version']}" in (ADDON / "CHANGELOG.md").read_text(encoding="utf-8")


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_images_and_docs() -> None:
    assert _png_size(ADDON / "icon.png") == (128, 128)  # the sizes the add-on store shows
    assert _png_size(ADDON / "logo.png") == (250, 100)
    docs = (ADDON / "DOCS.md").read_text(encoding="utf-8")
    assert "amd64 only" in docs and "aarch64" in docs
    repository = yaml.safe_load((REPO / "repository.yaml").read_text(encoding="utf-8"))
    assert repository["name"] and repository["url"].startswith("https://")


def test_image_and_setup_run_one_install_script() -> None:
    """The image and scripts/setup install the sidecar with scripts/install-sidecar, and nothing else does."""
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    setup = (REPO / "scripts" / "setup").read_text(encoding="utf-8")
    assert re.search(r"^RUN .*\n(?:.*\\\n)*.*/scripts/install-sidecar /opt/hold-slayer ", dockerfile, re.M)
    assert re.search(r"^scripts/install-sidecar --dev \.venv-sidecar ", setup, re.M)
    for text in (dockerfile, setup):
        assert "requirements.txt" not in text  # the requirement files are read by install-sidecar only
        assert "-e sidecar" not in text
    install = (REPO / "scripts" / "install-sidecar").read_text(encoding="utf-8")
    assert "sidecar/requirements.txt" in install and "sidecar/requirements-nodeps.txt" in install
    # The image ships the product: the test and lint tools are installed only with --dev.
    dev_part = install.split('if [ "$dev" = 1 ]; then', 1)[1].split("else", 1)[0]
    assert "requirements-dev.txt" in dev_part
    build = yaml.safe_load((ADDON / "build.yaml").read_text(encoding="utf-8"))
    assert build["build_from"] == {"amd64": "ghcr.io/home-assistant/amd64-base-debian:bookworm"}
    assert "uv python install 3.12" in dockerfile


def test_run_script_starts_the_addon_module() -> None:
    run = (ADDON / "rootfs" / "etc" / "services.d" / "hold-slayer" / "run").read_text(encoding="utf-8")
    assert run.startswith("#!/usr/bin/with-contenv bashio\n")
    assert run.rstrip().endswith("exec /opt/hold-slayer/bin/python -m hold_slayer_sidecar.addon")
    for script in ("run", "finish"):
        assert (ADDON / "rootfs" / "etc" / "services.d" / "hold-slayer" / script).stat().st_mode & 0o111
