"""A local stand-in for the Google APIs the cloud commands call (Vertex AI, Cloud Storage, OAuth).

The aiplatform SDK talks REST to `api_endpoint`, the storage client honours STORAGE_EMULATOR_HOST and the
Application Default Credentials file names its own token URI, so every request leaves the real client stack
as HTTP and lands here: tests see exactly what would be sent to Google, and nothing leaves the machine.
"""

from __future__ import annotations

import http.server
import json
import urllib.parse

PROJECT = "flowers-prod"
REGION = "europe-west4"
SCHEDULE_ID = "4242"
IMAGE = "europe-docker.pkg.dev/flowers-prod/images/flowers:1"
SERVICE_ACCOUNT = "pipelines@flowers-prod.iam.gserviceaccount.com"


class FakeGoogle(http.server.ThreadingHTTPServer):
    """Records (method, path, JSON body) and answers like the Vertex, Storage and OAuth endpoints."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, dict]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.registry = FakeRegistry()

    def sent(self, method: str, path_part: str) -> list[dict]:
        return [body for m, path, body in self.requests if m == method and path_part in path]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeGoogle

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        body = json.loads(raw) if raw.startswith("{") else dict(urllib.parse.parse_qsl(raw))
        path = urllib.parse.urlparse(self.path).path
        self.server.requests.append((self.command, self.path, body))
        status, reply = self.server.registry.reply(self.command, urllib.parse.unquote(path), body) or _reply(
            self.command, path, body)
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args) -> None:
        pass


def _schedule(name_suffix: str = SCHEDULE_ID, state: int = 1) -> dict:
    return {"name": f"projects/{PROJECT}/locations/{REGION}/schedules/{name_suffix}",
            "displayName": "flowers-schedule", "cron": "0 3 * * 1", "state": state}


def _reply(method: str, path: str, body: dict) -> tuple[int, dict]:
    if path.startswith("/storage/"):
        return _storage_reply(method, path, body)
    if path == "/token":
        return 200, {"access_token": "test-token", "expires_in": 3600, "token_type": "Bearer"}
    if method == "POST" and path.endswith("/pipelineJobs"):
        return 200, {**body, "name": f"projects/{PROJECT}/locations/{REGION}/pipelineJobs/flowers-1", "state": 2}
    if method == "POST" and path.endswith("/schedules"):
        return 200, {**body, **_schedule()}
    if method == "GET" and path.endswith("/schedules"):
        return 200, {"schedules": [_schedule(), _schedule("4343", state=2)]}
    if method == "DELETE":
        return 200, {"name": f"projects/{PROJECT}/locations/{REGION}/operations/7", "done": True,
                     "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}}
    if method == "GET" and "/schedules/" in path:
        return 200, _schedule(path.rsplit("/", 1)[1])
    return 200, {}


def _storage_reply(method: str, path: str, body: dict) -> tuple[int, dict]:
    """A project without its pipeline bucket yet: the SDK creates it and grants the run's service account."""
    if path.endswith("/iam"):
        return 200, body if method == "PUT" else {"bindings": []}
    if method == "GET":
        return 404, {"error": {"code": 404, "message": "Not Found"}}
    return 200, {"name": body.get("name", "bucket")}


_LOCATION = f"/v1/projects/{PROJECT}/locations/{REGION}"
_TYPE = "type.googleapis.com/google.cloud.aiplatform.v1."


class FakeRegistry:
    """Vertex Model Registry and endpoints, as far as the registry push uses them: models with versions and
    aliases (an alias given to a new version leaves the others, as Vertex keeps it unique within a model),
    endpoints with deployed models. Long-running operations answer done at once."""

    def __init__(self):
        self.models: dict[str, list[dict]] = {}  # model id -> its versions, oldest first
        self.endpoints: dict[str, dict] = {}

    def reply(self, method: str, path: str, body: dict):
        if not path.startswith(_LOCATION):
            return None
        resource = path[len(_LOCATION):]
        if resource == "/models" and method == "GET":
            return 200, {"models": [versions[-1] for versions in self.models.values()]}  # Display names: one.
        if resource == "/models:upload":
            return 200, self._upload(body)
        if resource.startswith("/models/") and method == "GET":
            model_id, _, version = resource[len("/models/"):].partition("@")
            return 200, next(v for v in self.models[model_id] if v["versionId"] == (version or "1"))
        if resource == "/endpoints" and method == "GET":
            return 200, {"endpoints": list(self.endpoints.values())}
        if resource == "/endpoints" and method == "POST":
            endpoint_id = str(900 + len(self.endpoints))
            self.endpoints[endpoint_id] = {**body, "name": f"{_LOCATION[4:]}/endpoints/{endpoint_id}",
                                           "deployedModels": []}
            return 200, _done("Endpoint", self.endpoints[endpoint_id])
        if resource.startswith("/endpoints/"):
            return self._endpoint(method, *resource[len("/endpoints/"):].partition(":")[::2], body)
        return None

    def _upload(self, body: dict) -> dict:
        model_id = body.get("parentModel", "").rsplit("/", 1)[-1] or str(100 + len(self.models))
        versions = self.models.setdefault(model_id, [])
        aliases = body["model"].get("versionAliases", [])
        for version in versions:
            version["versionAliases"] = [a for a in version["versionAliases"] if a not in aliases]
        versions.append({**body["model"], "name": f"{_LOCATION[4:]}/models/{model_id}",
                         "versionId": str(len(versions) + 1), "versionAliases": aliases,
                         "supportedDeploymentResourcesTypes": ["DEDICATED_RESOURCES"]})
        return _done("UploadModelResponse", {"model": f"{_LOCATION[4:]}/models/{model_id}",
                                             "modelVersionId": versions[-1]["versionId"]})

    def _endpoint(self, method: str, endpoint_id: str, verb: str, body: dict):
        endpoint = self.endpoints[endpoint_id]
        if verb == "deployModel":
            deployed = {**body["deployedModel"], "id": f"dm{len(endpoint['deployedModels']) + 1}"}
            endpoint["deployedModels"].append(deployed)
            endpoint["trafficSplit"] = {deployed["id"]: 100}
            return 200, _done("DeployModelResponse", {"deployedModel": deployed})
        if verb == "undeployModel":
            endpoint["deployedModels"] = [d for d in endpoint["deployedModels"] if d["id"] != body["deployedModelId"]]
            return 200, _done("UndeployModelResponse", {})
        return 200, endpoint


def _done(type_name: str, response: dict) -> dict:
    return {"name": f"{_LOCATION[4:]}/operations/1", "done": True, "response": {"@type": _TYPE + type_name, **response}}
