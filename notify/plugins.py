"""Apprise services as the notifier uses them: body-checked, endpoint-overridable, no sleeping.

Measured on Apprise 2.0–2.3: the WeCom bot, DingTalk and ServerChan plugins report success on
HTTP 200 even when the body carries an error (``{"errcode": 45009}``: rate limited), so a message
the service refused would be recorded as sent. Here those plugins are subclassed: the same URL
syntax, but the answer's body decides. The WeCom app plugin is subclassed too, to ask WeCom to
drop a byte-identical repeat (``enable_duplicate_check``: a message re-sent after a crash within
four hours is delivered once) and to fetch the access token once per application, not once per
recipient. ``aliyunsms://`` is a new plugin for the Aliyun SMS API (SendSms, signature v1).

Every service here takes ``?api=<base URL>`` to send to another host (a 政务微信 deployment, a
proxy, or a local fake in tests); Apprise's 5.5 s pause between two sends of one object is turned
off (``request_rate_per_sec = 0``) — the WeCom bot limit of 20 messages a minute is kept by a
per-key limiter instead.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from apprise import AppriseAsset, NotifyFormat, NotifyType
from apprise.manager_plugins import NotificationManager
from apprise.plugins import url_to_dict
from apprise.plugins.base import NotifyBase
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.pushplus import NotifyPushplus
from apprise.plugins.serverchan import NotifyServerChan
from apprise.plugins.wechat import WECHAT_TOKEN_ERROR_CODES, NotifyWeChat
from apprise.plugins.wecombot import NotifyWeComBot
from apprise.plugins.wxpusher import NotifyWxPusher

N_MGR = NotificationManager()

# What one message may carry, in UTF-8 bytes, per service (WeCom: 2048 bytes of text).
BYTE_LIMITS = {"wechat": 2048, "wecombot": 2048, "dingtalk": 20000, "serverchan": 32000, "pushplus": 20000}
DEFAULT_BYTE_LIMIT = 16000
# Services that take a short text (an SMS template variable), not the digest.
SHORT_SCHEMES = frozenset({"aliyunsms"})


class _Rebase:
    """``?api=https://host[/prefix]`` replaces the scheme and host of the service's endpoints."""

    endpoint_attrs: tuple[str, ...] = ("notify_url",)
    _api: str | None = None

    def _rebase(self, kwargs: dict[str, Any]) -> None:
        api = (kwargs.get("qsd") or {}).get("api") or kwargs.get("api")
        if not api:
            return
        self._api = str(api).rstrip("/")
        for attr in self.endpoint_attrs:
            parts = urlsplit(getattr(self, attr))
            setattr(self, attr, self._api + parts.path + (f"?{parts.query}" if parts.query else ""))

    def url_parameters(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        params: dict[str, str] = super().url_parameters(*args, **kwargs)  # type: ignore[misc]
        if self._api:
            params["api"] = self._api
        return params


def _json(r: requests.Response) -> dict[str, Any]:
    try:
        doc = json.loads(r.content)
    except (TypeError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


class _CheckedPost(_Rebase):
    """POST, then accept only HTTP 200 *and* a body that says success."""

    def _post(self, url: str, what: str, ok: Any, **kw: Any) -> bool:
        base: Any = self
        base.throttle()
        try:
            r = requests.post(
                url, verify=base.verify_certificate, timeout=base.request_timeout, allow_redirects=base.redirects, **kw
            )
        except requests.RequestException as e:
            base.logger.warning("%s: connection error (%s).", what, type(e).__name__)
            return False
        if r.status_code != requests.codes.ok:
            base.logger.warning("%s: HTTP %s.", what, r.status_code)
            return False
        doc = _json(r)
        if not ok(doc):
            code = next((doc[k] for k in ("errcode", "code", "errno", "Code") if k in doc), "no JSON body")
            msg = next((doc[k] for k in ("errmsg", "message", "msg", "Message") if k in doc), "")
            base.logger.warning("%s rejected it: HTTP 200 with error %s %s", what, code, msg)
            return False
        return True


class _MinuteLimiter:
    """At most ``n`` sends a minute per key, in this process (WeCom group bots: 20)."""

    def __init__(self, n: int):
        self.n = n
        self.lock = threading.Lock()
        self.sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    def acquire(self, key: str, max_wait: float) -> bool:
        deadline = time.monotonic() + max_wait
        while True:
            with self.lock:
                q = self.sent[key]
                now = time.monotonic()
                while q and now - q[0] >= 60:
                    q.popleft()
                if len(q) < self.n:
                    q.append(now)
                    return True
                wait = 60 - (now - q[0])
            if time.monotonic() + wait > deadline:
                return False
            time.sleep(min(wait, 0.5))


BOT_LIMITER = _MinuteLimiter(20)


class WeComBot(_CheckedPost, NotifyWeComBot):
    """WeCom group bot: success only when the body says ``errcode: 0``; 20 a minute per bot."""

    request_rate_per_sec = 0
    endpoint_attrs = ("notify_url", "api_url")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._rebase(kwargs)

    def send(self, body: str, title: str = "", notify_type: NotifyType = NotifyType.INFO, **kwargs: Any) -> bool:
        if not BOT_LIMITER.acquire(self.key, max_wait=min(self.socket_read_timeout, 5.0)):
            self.logger.warning("WeCom Bot: rate limited here (20 messages a minute per bot); try later.")
            return False
        payload = {"msgtype": "text", "text": {"content": body}}
        return self._post(
            self.api_url,
            "WeCom Bot",
            lambda d: d.get("errcode") == 0,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"User-Agent": self.app_id, "Content-Type": "application/json; charset=utf-8"},
        )


class DingTalk(_CheckedPost, NotifyDingTalk):
    """DingTalk robot, plain text: success only when the body says ``errcode: 0``."""

    request_rate_per_sec = 0

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._rebase(kwargs)

    def send(
        self,
        body: str,
        title: str = "",
        notify_type: NotifyType = NotifyType.INFO,
        body_format: NotifyFormat | None = None,
        **kwargs: Any,
    ) -> bool:
        payload = {
            "msgtype": "text",
            "text": {"content": f"{title}\n{body}" if title else body},
            "at": {"atMobiles": self.targets, "isAtAll": False},
        }
        params = None
        if self.secret:
            ts, sign = self.get_signature()
            params = {"timestamp": ts, "sign": sign}
        return self._post(
            self.notify_url.format(token=self.token),
            "DingTalk",
            lambda d: d.get("errcode") == 0,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            params=params,
            headers={"User-Agent": self.app_id, "Content-Type": "application/json"},
        )


class ServerChan(_CheckedPost, NotifyServerChan):
    """ServerChan (sctapi): success only when the body says ``code: 0`` (or ``errno: 0``)."""

    request_rate_per_sec = 0

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._rebase(kwargs)

    def send(self, body: str, title: str = "", notify_type: NotifyType = NotifyType.INFO, **kwargs: Any) -> bool:
        return self._post(
            self.notify_url.format(token=self.token),
            "ServerChan",
            lambda d: d.get("code", d.get("errno")) == 0,
            data={"title": title or body[:32], "desp": body},
        )


class WxPusher(_Rebase, NotifyWxPusher):
    request_rate_per_sec = 0

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._rebase(kwargs)


class PushPlus(_Rebase, NotifyPushplus):
    request_rate_per_sec = 0

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._rebase(kwargs)


_token_locks: dict[tuple[str, ...], threading.Lock] = collections.defaultdict(threading.Lock)
_token_locks_guard = threading.Lock()


class WeComApp(_Rebase, NotifyWeChat):
    """WeCom application message to a person (``wechat://corpid:secret@agentid/@userid``).

    One access-token fetch per application at a time (the token is cached in Apprise's persistent
    store, so it survives the process when ``storage_path`` is set); a token WeCom says is stale is
    dropped and fetched again once; WeCom is asked to drop a repeat of the same text within 4 h.
    """

    request_rate_per_sec = 0
    endpoint_attrs = ("token_url", "notify_url")
    duplicate_check_interval = 4 * 3600

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._rebase(kwargs)

    def _get_access_token(self) -> str | None:
        key = (self._api or "", self.corpid, self.agentid)
        with _token_locks_guard:
            lock = _token_locks[key]
        with lock:  # the first caller fetches; the others then find it in the store
            return super()._get_access_token()  # type: ignore[no-any-return]

    def send(self, body: str, title: str = "", notify_type: NotifyType = NotifyType.INFO, **kwargs: Any) -> bool:
        targets = {
            "touser": "|".join(self.users),
            "toparty": "|".join(self.departments),
            "totag": "|".join(self.tag_ids),
        }
        targets = {k: v for k, v in targets.items() if v}
        if not targets:
            self.logger.warning("WeCom: no recipient in the URL.")
            return False
        msgtype = "markdown" if self.notify_format == NotifyFormat.MARKDOWN else "text"
        payload = {
            "agentid": int(self.agentid),
            "msgtype": msgtype,
            msgtype: {"content": body},
            "enable_duplicate_check": 1,
            "duplicate_check_interval": self.duplicate_check_interval,
            **targets,
        }
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        started = time.monotonic()
        for attempt in (1, 2):
            token = self._get_access_token()
            if not token:
                return False
            try:
                r = requests.post(
                    f"{self.notify_url}?access_token={token}",
                    data=data,
                    headers={"User-Agent": self.app_id, "Content-Type": "application/json"},
                    verify=self.verify_certificate,
                    timeout=self.request_timeout,
                    allow_redirects=self.redirects,
                )
            except requests.RequestException as e:
                self.logger.warning("WeCom: connection error (%s).", type(e).__name__)
                return False
            if r.status_code != requests.codes.ok:
                self.logger.warning("WeCom: HTTP %s.", r.status_code)
                return False
            doc = _json(r)
            code = doc.get("errcode", -1)
            if code == 0:
                bad = [doc.get(k) for k in ("invaliduser", "invalidparty", "invalidtag") if doc.get(k)]
                if bad:
                    self.logger.warning("WeCom rejected recipients: %s", ", ".join(map(str, bad)))
                    return False
                return True
            if code in WECHAT_TOKEN_ERROR_CODES and attempt == 1:
                self.store.set("access_token", None, expires=1)
                if time.monotonic() - started < sum(self.request_timeout):
                    continue  # fetch a fresh token and try once more, if time allows
            self.logger.warning("WeCom rejected it: errcode %s %s", code, doc.get("errmsg", ""))
            return False
        return False


class AliyunSms(NotifyBase):
    """Aliyun SMS (阿里云短信服务, SendSms API 2017-05-25), one approved template.

    ``aliyunsms://{AccessKeyId}:{AccessKeySecret}@{TemplateCode}/{phone}[/{phone}…]?sign={SignName}``
    with ``param`` (template variable that gets the text, default ``content``), ``maxlen``
    (characters put in it, default 35: Aliyun's limit for a variable), ``region`` (cn-hangzhou) and
    ``api`` (the endpoint, default https://dysmsapi.aliyuncs.com). Success only when the answer's
    JSON says ``"Code": "OK"``.
    """

    service_name = "Aliyun SMS"  # type: ignore[assignment]
    service_url = "https://www.aliyun.com/product/sms"  # type: ignore[assignment]
    secure_protocol = "aliyunsms"  # type: ignore[assignment]
    notify_url = "https://dysmsapi.aliyuncs.com/"
    request_rate_per_sec = 0
    title_maxlen = 0
    body_maxlen = 500
    templates = ("{schema}://{user}:{password}@{template}/{targets}",)  # type: ignore[assignment]
    template_tokens = dict(  # noqa: RUF012 - Apprise's plugin convention
        NotifyBase.template_tokens,
        **{
            "user": {"name": "AccessKey ID", "type": "string", "required": True, "map_to": "access_key_id"},
            "password": {
                "name": "AccessKey Secret",
                "type": "string",
                "private": True,
                "required": True,
                "map_to": "access_key_secret",
            },
            "template": {"name": "Template Code", "type": "string", "required": True},
            "targets": {"name": "Phone numbers", "type": "list:string", "required": True},
        },
    )
    template_args = dict(  # noqa: RUF012 - Apprise's plugin convention
        NotifyBase.template_args,
        **{
            "sign": {"name": "Sign Name", "type": "string"},
            "param": {"name": "Template variable", "type": "string", "default": "content"},
            "maxlen": {"name": "Variable length", "type": "int", "default": 35},
            "region": {"name": "Region", "type": "string", "default": "cn-hangzhou"},
            "api": {"name": "Endpoint", "type": "string"},
        },
    )

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        template: str,
        targets: Any = None,
        sign: str | None = None,
        param: str | None = None,
        maxlen: Any = None,
        region: str | None = None,
        api: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        from apprise.exception import AppriseImproperlyConfigured

        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.template = template
        self.targets = [t for t in (targets or []) if t]
        self.sign = sign
        self.param = param or "content"
        self.maxlen = int(maxlen or 35)
        self.region = region or "cn-hangzhou"
        self.api = (api or self.notify_url).rstrip("/") + "/"
        if not (access_key_id and access_key_secret and template and sign and self.targets):
            raise AppriseImproperlyConfigured(
                "aliyunsms:// needs AccessKey ID and secret, a template code, ?sign= and a phone number"
            )

    @property  # type: ignore[override]
    def url_identifier(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.secure_protocol, self.access_key_id, self.access_key_secret)

    def url(self, privacy: bool = False, *args: Any, **kwargs: Any) -> str:
        params = self.url_parameters(*args, privacy=privacy, **kwargs)
        params.update({"sign": self.sign or "", "param": self.param, "maxlen": str(self.maxlen), "region": self.region})
        if self.api != self.notify_url:
            params["api"] = self.api
        return "{schema}://{key}:{secret}@{template}/{targets}/?{params}".format(
            schema=self.secure_protocol,
            key=self.quote(self.access_key_id, safe=""),
            secret=self.pprint(self.access_key_secret, privacy, safe=""),
            template=self.quote(self.template, safe=""),
            targets="/".join(self.pprint(t, privacy, safe="") for t in self.targets),
            params=self.urlencode(params),
        )

    @staticmethod
    def parse_url(url: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:  # type: ignore[override]
        results = NotifyBase.parse_url(url, verify_host=False)
        if not results:
            return results
        q = results["qsd"]
        results["access_key_id"] = NotifyBase.unquote(results.get("user") or "")
        results["access_key_secret"] = NotifyBase.unquote(results.get("password") or "")
        results["template"] = NotifyBase.unquote(results.get("host") or "")
        results["targets"] = NotifyBase.split_path(results["fullpath"])
        for k in ("sign", "param", "maxlen", "region", "api"):
            if q.get(k):
                results[k] = NotifyBase.unquote(q[k])
        return results

    @staticmethod
    def percent(s: str) -> str:
        return quote(s, safe="~")

    def signed_params(self, text: str, phones: list[str]) -> dict[str, str]:
        """The request's parameters with its Signature (RPC signature v1, HMAC-SHA1)."""
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": ",".join(phones),
            "RegionId": self.region,
            "SignName": self.sign or "",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template,
            "TemplateParam": json.dumps({self.param: text}, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = sign_rpc("POST", params, self.access_key_secret)
        return params

    def send(self, body: str, title: str = "", notify_type: NotifyType = NotifyType.INFO, **kwargs: Any) -> bool:
        text = " ".join(body.split())
        if len(text) > self.maxlen:
            text = text[: self.maxlen - 1] + "…"
        ok = True
        for i in range(0, len(self.targets), 1000):
            params = self.signed_params(text, self.targets[i : i + 1000])
            try:
                r = requests.post(
                    self.api,
                    data=params,
                    timeout=self.request_timeout,
                    verify=self.verify_certificate,
                    allow_redirects=self.redirects,
                )
            except requests.RequestException as e:
                self.logger.warning("Aliyun SMS: connection error (%s).", type(e).__name__)
                ok = False
                continue
            doc = _json(r)
            if r.status_code != 200 or doc.get("Code") != "OK":
                self.logger.warning(
                    "Aliyun SMS rejected it: HTTP %s, Code %s %s",
                    r.status_code,
                    doc.get("Code", "?"),
                    doc.get("Message", ""),
                )
                ok = False
        return ok


def sign_rpc(method: str, params: dict[str, str], secret: str) -> str:
    """Aliyun RPC signature v1: HMAC-SHA1 over METHOD&%2F&percent(canonical query), key secret + '&'."""
    pe = AliyunSms.percent
    canonical = "&".join(f"{pe(k)}={pe(v)}" for k, v in sorted(params.items()) if k != "Signature")
    to_sign = f"{method}&{pe('/')}&{pe(canonical)}"
    digest = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


N_MGR.add(AliyunSms, force=True)

# Our versions of the built-in plugins, by schema (used instead of Apprise's, same URL syntax).
CHECKED: dict[str, type[NotifyBase]] = {
    "wechat": WeComApp,
    "wecombot": WeComBot,
    "dingtalk": DingTalk,
    "serverchan": ServerChan,
    "schan": ServerChan,
    "wxpusher": WxPusher,
    "pushplus": PushPlus,
}


def url_fields(url: str) -> dict[str, Any] | None:
    """Apprise's parse of a URL (its constructor arguments), or None if it cannot be parsed."""
    try:
        return url_to_dict(url, secure_logging=True)  # type: ignore[no-any-return]
    except Exception:
        return None


def plugin_class(url: str, fields: dict[str, Any] | None = None) -> type[NotifyBase] | None:
    fields = fields if fields is not None else url_fields(url)
    if not fields:
        return None
    return class_for_scheme(str(fields.get("schema", "")))


def class_for_scheme(scheme: str) -> type[NotifyBase] | None:
    scheme = scheme.lower()
    if scheme in CHECKED:
        return CHECKED[scheme]
    return N_MGR[scheme] if scheme in N_MGR else None  # noqa: SIM401 - a plugin manager, not a dict


def make_service(url: str, asset: AppriseAsset, timeout: float) -> NotifyBase | None:
    """The service object for ``url`` (our checked subclass where we have one), with connect and
    read timeouts well under Apprise's per-service deadline ``timeout``: a send that times out
    has really stopped, it is not left running behind Apprise's back."""
    fields = url_fields(url)
    cls = plugin_class(url, fields)
    if not fields or cls is None:
        return None
    fields = dict(fields)
    if "format" not in (fields.get("qsd") or {}):
        fields["format"] = "text"  # digests are plain text (e-mail would otherwise flatten the lines)
    fields["asset"] = asset
    fields["tag"] = set()
    try:
        obj = cls(**fields)
    except Exception:
        return None
    obj.request_rate_per_sec = 0
    per = max(timeout / 5, 0.05)
    obj.socket_connect_timeout = min(float(obj.socket_connect_timeout), per)
    obj.socket_read_timeout = min(float(obj.socket_read_timeout), per)
    return obj


def byte_limit(schema: str, obj: NotifyBase) -> int:
    """UTF-8 bytes one message (title included when the service has no title) may take."""
    if schema in BYTE_LIMITS:
        return BYTE_LIMITS[schema]
    return min(int(getattr(obj, "body_maxlen", DEFAULT_BYTE_LIMIT) or DEFAULT_BYTE_LIMIT), DEFAULT_BYTE_LIMIT)
