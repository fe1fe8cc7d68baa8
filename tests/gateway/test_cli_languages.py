"""Every CLI failure caused by an exception prints the cause in the language of its line.

One real failure per command family, run as a child process the way an operator meets it: the 错误 line
carries the cause's Chinese (its reason code's catalogue sentence, or its own Chinese half) and not its
English, the error line its English and no CJK character, and the exit code a script relies on is kept.
(The bridge families are in tests/adapters/bridge/test_cli_languages.py.)
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli._common import in_languages
from gateway.config import ConfigError
from gateway.errors import ReasonCode
from gateway.testing import Federation
from tests.cli_languages import assert_each_language_once, cause_of
from tests.gateway.nodes import jgx, write_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_node(tmp_path_factory.mktemp("languages") / "node", Federation.create(datetime.now(UTC)))


@pytest.fixture
def garbage(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.txt"
    path.write_text("garbage\n", encoding="utf-8")
    return path


def test_serve_names_an_invalid_node_id_in_each_language(tmp_path: Path) -> None:
    """`jgx serve` initialising an empty directory with a bad node id: ConfigError's own Chinese and English
    (it used to print its bilingual detail on both lines, and no catalogue sentence on either)."""
    done = jgx("serve", "--dir", str(tmp_path / "new"), "--node-id", "Bad Id!", "--console", "off")
    assert 2 == done.returncode, done.stderr
    assert_each_language_once(done.stderr, cause_of(ReasonCode.MALFORMED))
    assert_each_language_once(done.stderr, ("节点标识不合法", "node id 'Bad Id!' must match"))


def test_log_verify_on_a_broken_jgx_toml(node: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(node, broken)
    (broken / "jgx.toml").write_text("garbage = [\n", encoding="utf-8")
    done = jgx("log", "verify", "--dir", str(broken))
    assert 2 == done.returncode, done.stderr
    assert_each_language_once(done.stderr, cause_of(ReasonCode.MALFORMED))
    assert_each_language_once(done.stderr, ("不是有效的 TOML", "not valid TOML"))


def test_trust_edit_of_a_file_that_is_not_a_trust_configuration(garbage: Path) -> None:
    done = jgx("trust", "revoke-key", str(garbage), "abc")
    assert 2 == done.returncode, done.stderr
    assert_each_language_once(done.stderr, cause_of(ReasonCode.TRUST_INVALID))


def test_keys_id_of_a_file_that_is_not_a_key(garbage: Path) -> None:
    done = jgx("keys", "id", str(garbage))
    assert 2 == done.returncode, done.stderr
    assert_each_language_once(done.stderr, cause_of(ReasonCode.MALFORMED))


def test_a_missing_file_is_named_in_each_language(tmp_path: Path) -> None:
    """An OS error's reason: its Chinese wording on the 错误 line, the system's English on the error line (the
    Chinese line used to carry "No such file or directory")."""
    done = jgx("keys", "id", str(tmp_path / "absent.pem"))
    assert 2 == done.returncode, done.stderr
    assert_each_language_once(done.stderr, ("文件或目录不存在 (ENOENT)", "No such file or directory"))


def test_envelope_verify_refusal_gives_each_language_its_line(node: Path, garbage: Path) -> None:
    """A refusal (exit 1) used to print "CODE: 中文 / English" on one line."""
    done = jgx("envelope", "verify", str(garbage), "--trust", str(node / "trust.json"), "--as", "sc.hub")
    assert 1 == done.returncode, done.stderr
    assert_each_language_once(done.stderr, cause_of(ReasonCode.MALFORMED))
    assert "MALFORMED" in done.stderr


def test_adapter_run_with_an_unusable_trust_configuration(node: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(node, broken)
    (broken / "trust.json").write_text("garbage\n", encoding="utf-8")
    done = jgx(
        "adapter", "run", "--department", "amr", "--dir", str(broken), "--hub", "127.0.0.1:1",
        "--listen", "127.0.0.1:0", "--insecure",
    )  # fmt: skip
    assert 2 == done.returncode, done.stderr
    assert_each_language_once(done.stderr, cause_of(ReasonCode.TRUST_INVALID))


def test_conformance_verify_cert_with_an_unusable_trust_configuration(garbage: Path) -> None:
    """The Chinese line used to carry "CODE: detail" and the English one the bilingual diagnostics."""
    done = jgx("conformance", "verify-cert", str(garbage), "--trust", str(garbage))
    assert 2 == done.returncode, done.stderr
    assert_each_language_once(done.stderr, cause_of(ReasonCode.TRUST_INVALID))


def test_conformance_run_names_a_bad_override_in_each_language(node: Path, garbage: Path) -> None:
    done = jgx(
        "conformance", "run", "--export", str(garbage.parent), "--trust", str(node / "trust.json"),
        "--department", "sc.hub", "--override", "nonsense", "--out", str(garbage.parent / "out"),
    )  # fmt: skip
    assert 2 == done.returncode, done.stderr
    assert_each_language_once(done.stderr, ("应为 RULE=warning|info|off:理由", "must look like RULE="))


def test_a_bilingual_config_detail_and_plain_causes_split_by_language() -> None:
    zh, en = in_languages(ConfigError("node_id", "节点标识不合法", "node id 'X' must match"))
    assert "MALFORMED: 报文格式错误，无法解析 — jgx.toml [node_id]: 节点标识不合法" == zh
    assert en.endswith(" — jgx.toml [node_id]: node id 'X' must match"), en
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en)
    zh, _ = in_languages(FileNotFoundError(2, "No such file or directory", "/nowhere"))
    assert "文件或目录不存在 (ENOENT) /nowhere" == zh
