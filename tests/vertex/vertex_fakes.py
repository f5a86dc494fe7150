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
        status, reply = _reply(self.command, path, body)
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
