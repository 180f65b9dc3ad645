"""A small HTTP front for the test registry: it forwards every request, counts the blob bytes
it hands out, and serves `/token` for token auth.

The token endpoint signs a JWT with a self-signed certificate made here (docker-registry
trusts it through `rootcertbundle`). It grants a token to a client that shows the right
Basic credentials, or, as registry.ollama.ai does, to one that signs the token URL with an
ed25519 key (Ollama's challenge answer); it records which.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID

SERVICE = "pollama-test-registry"
ISSUER = "pollama-test-issuer"
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenSigner:
    """An RSA key and its self-signed certificate, for docker-registry's `rootcertbundle`."""

    def __init__(self, folder: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.bundle = folder / "token-cert.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def token(self, subject: str, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 600,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


class Front:
    """What the front saw: blob body bytes served, and who got tokens how."""

    def __init__(self, upstream: str, signer: TokenSigner | None, users: dict[str, str]) -> None:
        self.upstream = upstream
        self.signer = signer
        self.users = users
        self.blob_bytes = 0
        self.token_grants: list[str] = []  # "basic:<user>" or "ed25519:<public key>"
        self.requests: list[tuple[str, str]] = []
        self.manifest_accepts: list[str] = []  # the Accept header of each manifest GET
        self.storage: Path | None = None  # the registry's storage folder, when known
        # When set (a `host:port` naming this front by another name), blob GETs are answered
        # with a 307 to `http://<cdn>/cdn/...`, as registry.ollama.ai sends pulls to its CDN.
        self.cdn: str | None = None
        self.cdn_authorizations: list[str] = []
        # When set, upload PATCHes are answered 307 to `http://<storage>/storage/<id>`, as
        # registry.ollama.ai sends parts to its object storage; the front hands each part
        # on to the registry and keeps the registry's next upload URL for `/pending/<id>`.
        self.storage_host: str | None = None
        # Faults for blob GETs: answer the next `fail_blob_gets` with a 503, and stall the
        # next one (send `stall_after` bytes, then nothing) until the client gives up.
        self.fail_blob_gets = 0
        self.stall_after: int | None = None
        # Faults for uploads: answer the next `fail_uploads[method]` PATCHes or PUTs of an
        # upload (its parts, its commit) with a 503, before the registry sees them.
        self.fail_uploads: dict[str, int] = {}
        self.storage_authorizations: list[str] = []
        self._uploads: dict[str, tuple[str, str]] = {}  # id -> (upstream path, range)
        self._next: dict[str, str] = {}  # id -> the registry's next upload URL
        self.lock = threading.Lock()
        self.http = httpx.Client(base_url=f"http://{upstream}", timeout=60, trust_env=False)


def _handler(front: Front) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _forward(self) -> None:
            with front.lock:
                front.requests.append((self.command, self.path))
                if self.command == "GET" and "/manifests/" in self.path:
                    front.manifest_accepts.append(", ".join(self.headers.get_all("accept", [])))
            if self.path.startswith("/token"):
                self._token()
                return
            if self._upload_fault():
                return
            if self._storage():
                return
            if self.path.startswith("/cdn/"):
                with front.lock:
                    front.cdn_authorizations.append(self.headers.get("authorization", ""))
                self.path = self.path.removeprefix("/cdn")
                self.headers["X-Front-CDN"] = "1"
            elif front.cdn and self.command == "GET" and "/blobs/sha256:" in self.path:
                self.send_response(307)
                self.send_header("Location", f"http://{front.cdn}/cdn{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            is_blob = self.command == "GET" and "/blobs/sha256:" in self.path
            if is_blob and front.fail_blob_gets > 0:
                front.fail_blob_gets -= 1
                self._reply(503, {"errors": [{"code": "UNAVAILABLE"}]})
                return
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            if self.headers.get("x-front-cdn") and front.signer is not None:
                # The CDN's URL is its own credential (presigned); here the front signs for it.
                repo = self.path.removeprefix("/v2/").split("/blobs/")[0]
                token = front.signer.token("cdn", [f"repository:{repo}:pull"])
                headers = {**headers, "Authorization": f"Bearer {token}"}
            request = front.http.build_request(
                self.command, self.path, headers=headers, content=body
            )
            response = front.http.send(request, stream=True)
            try:
                self.send_response(response.status_code)
                for key, value in response.headers.multi_items():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.end_headers()
                sent = 0
                stall_after, front.stall_after = (
                    (front.stall_after, None) if is_blob else (None, front.stall_after)
                )
                for chunk in response.iter_raw(65536):
                    if stall_after is not None and sent + len(chunk) > stall_after:
                        self.wfile.flush()
                        time.sleep(3)  # nothing more on this connection
                        self.close_connection = True
                        return
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if is_blob:
                        with front.lock:
                            front.blob_bytes += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            finally:
                response.close()

        def _upload_fault(self) -> bool:
            with front.lock:
                if "/blobs/uploads/" not in self.path or not front.fail_uploads.get(self.command):
                    return False
                front.fail_uploads[self.command] -= 1
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self._reply(503, {"errors": [{"code": "UNAVAILABLE"}]})
            return True

        def _storage(self) -> bool:
            """The 307 upload path, when the front plays registry.ollama.ai's storage."""
            if self.path.startswith("/pending/"):
                upload_id, _, query = self.path.removeprefix("/pending/").partition("?")
                target = urlsplit(front._next.pop(upload_id))
                self.path = f"{target.path}?{target.query}" + (f"&{query}" if query else "")
            if front.storage_host and self.command == "PATCH" and "/uploads/" in self.path:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                upload_id = secrets.token_hex(8)
                front._uploads[upload_id] = (self.path, self.headers["content-range"])
                self.send_response(307)
                self.send_header("Location", f"http://{front.storage_host}/storage/{upload_id}")
                location = f"http://{self.headers['host']}/pending/{upload_id}"
                self.send_header("Docker-Upload-Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True
            if self.path.startswith("/storage/"):
                front.storage_authorizations.append(self.headers.get("authorization", ""))
                upload_id = self.path.removeprefix("/storage/")
                path, content_range = front._uploads.pop(upload_id)
                data = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {"Content-Range": content_range, "Host": self.headers["host"]}
                if front.signer is not None:
                    repo = path.removeprefix("/v2/").split("/blobs/")[0]
                    token = front.signer.token("storage", [f"repository:{repo}:pull,push"])
                    headers["Authorization"] = f"Bearer {token}"
                response = front.http.patch(path, content=data, headers=headers)
                front._next[upload_id] = response.headers["location"]
                self._reply(201 if response.status_code == 202 else 500, {})
                return True
            return False

        def _token(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            grant = self._who()
            if grant is None or front.signer is None:
                self._reply(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                return
            with front.lock:
                front.token_grants.append(grant)
            token = front.signer.token(grant, query.get("scope", []))
            self._reply(200, {"token": token, "access_token": token})

        def _who(self) -> str | None:
            auth = self.headers.get("authorization", "")
            if auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                return f"basic:{user}" if front.users.get(user) == password else None
            key, _, signature = auth.partition(":")
            try:
                raw = base64.b64decode(key)
                # SSH wire: string "ssh-ed25519", string <32-byte key>
                public = Ed25519PublicKey.from_public_bytes(raw[-32:])
                url = f"http://{self.headers['host']}{self.path}"
                empty = base64.b64encode(hashlib.sha256(b"").hexdigest().encode()).decode()
                public.verify(base64.b64decode(signature), f"GET,{url},{empty}".encode())
            except Exception:
                return None
            return f"ed25519:{key}"

        def _reply(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    return Handler


@contextmanager
def front_of(front: Front, port: int) -> Iterator[str]:
    """Serve `front` on 127.0.0.1:`port`; yield its `host:port`."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(front))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        front.http.close()
