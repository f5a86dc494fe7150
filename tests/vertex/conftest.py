"""Fixtures of the Vertex tests: the fake Google endpoints wired into the real clients, a small compiled pipeline."""

from __future__ import annotations

import json
import threading

import pytest

from tests.vertex.vertex_fakes import IMAGE, PROJECT, FakeGoogle


@pytest.fixture
def fake_google(monkeypatch, tmp_path):
    """The fake server, with the aiplatform SDK, storage and ADC pointed at it for this test only."""
    from google.cloud.aiplatform import initializer

    server = FakeGoogle()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    adc = tmp_path / "key.json"
    adc.write_text(json.dumps(_service_account_key(token_uri=f"{server.url}/token")))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.url)
    # aiplatform.init() cannot unset an endpoint, so set the two fields it would set and let monkeypatch restore them.
    monkeypatch.setattr(initializer.global_config, "_api_endpoint", server.url)
    monkeypatch.setattr(initializer.global_config, "_api_transport", "rest")
    yield server
    server.shutdown()
    server.server_close()


def _service_account_key(token_uri: str) -> dict:
    """A service-account key file as IAM issues them (a fresh RSA key), whose token URI is the fake server."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": PROJECT, "private_key_id": "1", "private_key": pem,
            "client_email": f"ci@{PROJECT}.iam.gserviceaccount.com", "client_id": "1", "token_uri": token_uri}


@pytest.fixture(scope="session")
def small_template(tmp_path_factory) -> str:
    """A real KubeflowV2 compile of a one-step pipeline with one runtime parameter: fast, and independent of
    the full DAG, for the tests of what is sent rather than what is compiled."""
    from tfx import v1 as tfx

    out = tmp_path_factory.mktemp("small")
    schema = tfx.dsl.experimental.RuntimeParameter(name="schema_uri", ptype=str, default="gs://b/schema.pbtxt")
    dag = tfx.dsl.Pipeline(pipeline_name="flowers", pipeline_root="gs://flowers-bucket/pipeline",
                           components=[tfx.components.ImportSchemaGen(schema_file=schema)], enable_cache=True)
    tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=IMAGE),
        output_dir=str(out), output_filename="flowers.json").run(dag)
    return str(out / "flowers.json")
