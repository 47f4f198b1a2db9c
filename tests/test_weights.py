"""Model provisioning refuses files that are not the pinned ones."""

import dataclasses

import pytest

from analysis.serving.weights import ProvisioningError, load_registry, provision, verify


def test_a_file_with_other_bytes_is_refused(tmp_path):
    model = load_registry()["smollm2:135m"]
    fake = tmp_path / model.file
    fake.write_bytes(b"\0" * 16)
    with pytest.raises(ProvisioningError, match=r"smollm2:135m: .* has 16 bytes, expected 98,362,432"):
        verify(model, fake)
    same_size = dataclasses.replace(model, size=16)
    with pytest.raises(ProvisioningError, match=r"smollm2:135m: .* has sha256 374708fff7719dd5979ec875d56cd2286f6d3cf7ec317a3b25632aab28ec37bb"):
        verify(same_size, fake)


@pytest.mark.llm  # reads the installed model files
def test_the_installed_models_verify():
    # `make setup` provisioned them; this re-hashes every file against its pin.
    assert len(provision()) == 3


def test_an_unknown_tag_is_refused():
    with pytest.raises(ProvisioningError, match="unknown embedded model"):
        provision(["llama3.1:70b"])
