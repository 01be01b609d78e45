"""``agents.ssh.load_private_key``: an RSA key is parsed and checked once (not twice, as
``paramiko.PKey.from_path`` does) and is the same key ``from_path`` gives, certificate included."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import paramiko
import pytest

from agents.shell import ShellError
from agents.ssh import load_private_key
from tests.conftest import require_or_skip


def _keygen(path: Path, kind: str, passphrase: str = "") -> None:
    if shutil.which("ssh-keygen") is None:
        require_or_skip("ssh-keygen is not installed (openssh-client)")
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-f", str(path)], check=True)


@pytest.mark.parametrize("kind", ["rsa", "ed25519", "ecdsa"])
def test_the_key_is_the_one_from_path_loads(tmp_path: Path, kind: str) -> None:
    key_file = tmp_path / "id"
    _keygen(key_file, kind)
    ours, theirs = load_private_key(str(key_file)), paramiko.PKey.from_path(str(key_file))
    assert type(ours) is type(theirs)
    assert ours.fingerprint == theirs.fingerprint and ours.asbytes() == theirs.asbytes()
    signature = ours.sign_ssh_data(b"data")
    signature.rewind()
    public = type(theirs)(data=theirs.asbytes())  # the public half, from the other loader
    assert public.verify_ssh_sig(b"data", signature)  # a private key that signs, checked by the other


def test_an_rsa_key_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The expensive step (parsing and checking the RSA private key, ~33 ms for 2048 bits) runs once
    per load: ``cryptography``'s loader once, paramiko's own reader (``from_path``'s second parse) never."""
    from cryptography.hazmat.primitives import serialization

    key_file = tmp_path / "id_rsa"
    _keygen(key_file, "rsa")
    calls: list[str] = []
    real_loader, real_reader = serialization.load_ssh_private_key, paramiko.RSAKey._from_private_key

    def loader(*args: object, **kwargs: object) -> object:
        calls.append("cryptography")
        return real_loader(*args, **kwargs)  # type: ignore[arg-type]

    def reader(self: paramiko.RSAKey, *args: object, **kwargs: object) -> None:
        calls.append("paramiko")
        real_reader(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(serialization, "load_ssh_private_key", loader)
    monkeypatch.setattr(paramiko.RSAKey, "_from_private_key", reader)
    load_private_key(str(key_file))
    assert calls == ["cryptography"]
    calls.clear()
    paramiko.PKey.from_path(str(key_file))  # what it replaces: the same file parsed twice
    assert calls == ["cryptography", "paramiko"]


def test_an_rsa_certificate_beside_the_key_is_loaded(tmp_path: Path) -> None:
    ca, key_file = tmp_path / "ca", tmp_path / "id_rsa"
    _keygen(ca, "ed25519")
    _keygen(key_file, "rsa")
    subprocess.run(
        ["ssh-keygen", "-q", "-s", str(ca), "-I", "scanner", "-n", "scan", str(key_file) + ".pub"],
        check=True,
        capture_output=True,
    )
    key = load_private_key(str(key_file))
    assert key.public_blob is not None and key.public_blob.key_type == "ssh-rsa-cert-v01@openssh.com"
    assert key.public_blob == paramiko.PKey.from_path(str(key_file)).public_blob


def test_an_encrypted_rsa_key_needs_the_right_passphrase(tmp_path: Path) -> None:
    key_file = tmp_path / "id_rsa"
    _keygen(key_file, "rsa", passphrase="correct horse")
    assert load_private_key(str(key_file), "correct horse").can_sign()
    with pytest.raises(ShellError, match="right passphrase"):
        load_private_key(str(key_file), "wrong")
    with pytest.raises(ShellError) as info:
        load_private_key(str(key_file))
    assert "correct horse" not in str(info.value)


def test_a_pem_rsa_key_loads(tmp_path: Path) -> None:
    key_file = tmp_path / "id_rsa"
    _keygen(key_file, "rsa")
    subprocess.run(["ssh-keygen", "-q", "-p", "-m", "PEM", "-N", "", "-P", "", "-f", str(key_file)], check=True)
    assert key_file.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert load_private_key(str(key_file)).fingerprint == paramiko.PKey.from_path(str(key_file)).fingerprint
