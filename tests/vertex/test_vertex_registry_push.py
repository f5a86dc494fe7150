"""The registry push against the fake Vertex API: one Model, a new version per push, the alias on the newest,
and the endpoint serving only that version. The request bodies are the ones the real aiplatform client sends.

The endpoint-creating test comes last: after `Endpoint.create`, aiplatform 1.165 lists every endpoint of the
process as a private-service-connect one, which `Endpoint.list` skips (one push per executor process is unaffected).
"""

from components.push.vertex_registry import PushedVersion, RegistryTarget, push_version
from tests.vertex.vertex_fakes import PROJECT, REGION

LOCATION = f"projects/{PROJECT}/locations/{REGION}"
SERVING_IMAGE = "europe-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"
TARGET = RegistryTarget(project=PROJECT, region=REGION, model_display_name="flowers", serving_image=SERVING_IMAGE,
                        endpoint_display_name="flowers-endpoint")
MODEL_DIR = "gs://flowers-bucket/pipeline/Pusher/pushed_model/9"
DEDICATED = {"machineSpec": {"machineType": "n1-standard-2"}, "minReplicaCount": 1, "maxReplicaCount": 1}


def _serving_v1(fake_google):
    """A registry where version 1 of `flowers` holds the alias and serves on the endpoint."""
    fake_google.registry.reply("POST", f"/v1/{LOCATION}/models:upload", {"model": {
        "displayName": "flowers", "artifactUri": "gs://flowers-bucket/v1", "versionAliases": ["champion", "default"],
        "containerSpec": {"imageUri": SERVING_IMAGE}}})
    fake_google.registry.endpoints["900"] = {
        "displayName": "flowers-endpoint", "name": f"{LOCATION}/endpoints/900", "trafficSplit": {"dm1": 100},
        "deployedModels": [{"id": "dm1", "model": f"{LOCATION}/models/100@1", "dedicatedResources": DEDICATED}]}


def test_a_blessed_model_becomes_the_next_version_takes_the_alias_and_alone_serves(fake_google):
    _serving_v1(fake_google)
    pushed = push_version(MODEL_DIR, TARGET)

    assert pushed == PushedVersion(f"{LOCATION}/models/100", "2", f"{LOCATION}/endpoints/900")
    assert pushed.versioned_name == f"{LOCATION}/models/100@2"
    [lookup] = [path for method, path, _ in fake_google.requests if method == "GET" and "/models?" in path]
    assert "filter=display_name%3D%22flowers%22" in lookup
    assert fake_google.sent("POST", "/models:upload") == [{
        "parentModel": f"{LOCATION}/models/100",
        "model": {"displayName": "flowers", "artifactUri": MODEL_DIR, "containerSpec": {"imageUri": SERVING_IMAGE},
                  "versionAliases": ["champion", "default"]}}]
    assert fake_google.sent("POST", "/endpoints/900:deployModel") == [{
        "deployedModel": {"model": f"{LOCATION}/models/100@2", "displayName": "flowers-v2",
                          "dedicatedResources": DEDICATED},
        "trafficSplit": {"0": 100}}]
    undeploys = fake_google.sent("POST", "/endpoints/900:undeployModel")
    assert [body["deployedModelId"] for body in undeploys] == ["dm1"]

    versions = fake_google.registry.models["100"]
    assert [(v["versionId"], v["versionAliases"]) for v in versions] == [("1", []), ("2", ["champion", "default"])]
    assert [d["model"] for d in fake_google.registry.endpoints["900"]["deployedModels"]] == [
        f"{LOCATION}/models/100@2"]
    assert not fake_google.sent("POST", f"/v1/{LOCATION}/endpoints?")  # The endpoint existed.


def test_without_an_endpoint_the_version_is_only_registered(fake_google):
    _serving_v1(fake_google)
    pushed = push_version(MODEL_DIR, RegistryTarget(project=PROJECT, region=REGION, model_display_name="flowers",
                                                    serving_image=SERVING_IMAGE))
    assert pushed == PushedVersion(f"{LOCATION}/models/100", "2")
    assert not [path for _, path, _ in fake_google.requests if "/endpoints" in path]


def test_the_model_cards_summary_goes_with_the_version_as_its_description(fake_google):
    _serving_v1(fake_google)
    push_version(MODEL_DIR, TARGET, description="Flower photo classifier: eval accuracy 0.932 on 660 photos.")
    [upload] = fake_google.sent("POST", "/models:upload")
    assert upload["model"]["description"] == "Flower photo classifier: eval accuracy 0.932 on 660 photos."


def test_the_first_push_creates_the_model_and_the_endpoint(fake_google):
    pushed = push_version(MODEL_DIR, TARGET)
    assert pushed == PushedVersion(f"{LOCATION}/models/100", "1", f"{LOCATION}/endpoints/900")
    [upload] = fake_google.sent("POST", "/models:upload")
    assert "parentModel" not in upload and upload["model"]["versionAliases"] == ["champion", "default"]
    assert [body for method, path, body in fake_google.requests
            if method == "POST" and path.startswith(f"/v1/{LOCATION}/endpoints?")] == [
        {"displayName": "flowers-endpoint"}]
    assert not fake_google.sent("POST", ":undeployModel")

