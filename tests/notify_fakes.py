"""Local stand-ins for the services the notifier talks to, for tests and the benchmark.

``FakeServices``: one threaded HTTP server on 127.0.0.1 (random port) that answers as a json://
sink, as WeCom (``/cgi-bin/gettoken``, ``/cgi-bin/message/send``, ``/cgi-bin/webhook/send``), as
WxPusher/PushPlus, and as the Aliyun SMS API (``/sms/``, signature checked). Every request is
recorded; ``script(path, *answers)`` queues the next answers for a path (status, JSON body,
delay in seconds) — a 500, a timeout, a 200 with an error code.

``FakeSMTP``: an aiosmtpd server on 127.0.0.1 that keeps every message it receives.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SMS_SECRET = "test-sms-secret"
WECOM_SECRET = "test-wecom-secret"
WECOM_TOKEN = "TOKEN-1"


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict → JSON; bytes/str → as is; None → the service's normal success
    delay: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


@dataclass
class FakeServices:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    scripts: dict[str, deque[Answer]] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: float = 0.0  # seconds before every unscripted answer (a remote service's round trip)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeServices:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                parts = urlsplit(self.path)
                req = Request(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with fake.lock:
                    fake.requests.append(req)
                    script = fake.scripts.get(parts.path)
                    answer = script.popleft() if script else Answer(delay=fake.latency)
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.body if answer.body is not None else fake.normal(req)
                data = (
                    payload
                    if isinstance(payload, bytes)
                    else (payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
                )
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            do_GET = _handle
            do_POST = _handle

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default listen backlog of 5 refuses bursts of connections

        self.server = Server((self.host, self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def normal(self, req: Request) -> Any:
        if req.path == "/__count":  # for a sink in another process (the benchmark)
            return {"count": sum(r.path != "/__count" for r in self.requests)}
        if req.path == "/cgi-bin/gettoken":
            if req.query.get("corpsecret") != WECOM_SECRET:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            return {"errcode": 0, "errmsg": "ok", "access_token": WECOM_TOKEN, "expires_in": 7200}
        if req.path == "/cgi-bin/message/send":
            if req.query.get("access_token") != WECOM_TOKEN:
                return {"errcode": 40014, "errmsg": "invalid access_token"}
            return {"errcode": 0, "errmsg": "ok", "invaliduser": ""}
        if req.path.startswith("/cgi-bin/webhook/send"):
            return {"errcode": 0, "errmsg": "ok"}
        if req.path.startswith("/sms"):
            from notify.plugins import sign_rpc

            form = req.form()
            if sign_rpc("POST", form, SMS_SECRET) != form.get("Signature"):
                return {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}
            return {"Code": "OK", "Message": "OK", "RequestId": "R1", "BizId": "B1"}
        if req.path.startswith("/api/send/message"):  # WxPusher
            return {"code": 1000, "msg": "处理成功", "success": True}
        if req.path == "/send":  # PushPlus
            return {"code": 200, "msg": "请求成功", "data": "x"}
        return {"ok": True}

    def script(self, path: str, *answers: Answer) -> None:
        with self.lock:
            self.scripts[path].extend(answers)

    def to(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path or r.path.startswith(path + "/")]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.scripts.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


class FakeSMTP:
    def __init__(self) -> None:
        self.messages: list[Mail] = []
        self.port = free_port()

    def start(self) -> FakeSMTP:
        from aiosmtpd.controller import Controller

        box = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                box.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def serve_in_process(latency: float, port_queue: Any) -> None:
    """Run a FakeServices until killed, in a child process (its threads then do not compete with
    the process being measured for the interpreter lock); puts its port on ``port_queue``."""
    f = FakeServices(latency=latency).start()
    port_queue.put(f.port)
    f.thread.join()
