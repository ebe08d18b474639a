"""Fault injection (DESIGN §6) as the unmodified official SDKs see it, against the binary in strict auth
mode with the dev credentials: rules are added through `POST /_imgemu/faults`, the SDKs build, sign and
send every request themselves, and the outcome is read back through the SDKs, the rule counters
(`GET /_imgemu/faults`) and the journal (`GET /_imgemu/journal`).

- Alibaba (alibabacloud-imagesearch20201214, V3 signing): an injected `DeniedRequest` is tea-openapi's
  ClientException (code DeniedRequest, status 403); a `reset` is a connection error, not a response.
- Huawei (huaweicloudsdkims): an injected `IMG.0061` is the core's ServerResponseException (500);
  connection faults are its ConnectionException.
- JD (jdcloud_apim_sdk SimpleClient): an injected `11010` is an HTTP 200 envelope without a result; a
  `task_fail` rule makes the created index task finish with the image in failed_list.
- A seeded probability rule faults the same requests in separate emulator processes."""

import os
import re
import struct
import subprocess
import time
import zlib
from base64 import b64encode
from contextlib import contextmanager

import pytest
import requests
from alibabacloud_imagesearch20201214 import models as am
from alibabacloud_imagesearch20201214.client import Client as AliClient
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException
from alibabacloud_tea_openapi.models import Config as AliConfig
from darabonba.exceptions import ResponseException
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ConnectionException, ServerResponseException
from huaweicloudsdkims.v2 import GlanceShowImageRequest, ImsClient, UpdateImageRequest, UpdateImageRequestBody
from jdcloud_apim_sdk.core.config import Config as JdConfig
from jdcloud_apim_sdk.core.const import SCHEME_HTTP
from jdcloud_apim_sdk.core.credential import Credential
from jdcloud_apim_sdk.core.logger import ERROR, Logger
from jdcloud_apim_sdk.simpleclient import SimpleClient
from jdcloud_apim_sdk.simplerequest import SimpleRequest
from Tea.exceptions import TeaException

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEV_AK, DEV_SK = "imgemu-dev-ak", "imgemu-dev-sk"

# Alibaba (spec aliyun.md §8.2): the fixture image 2092061_1/namexxx.jpg as CheckImageExists gives it.
ALI_INSTANCE = "demoinstance1"
NAMEXXX = {
    "ProductId": "2092061_1",
    "PicName": "namexxx.jpg",
    "CategoryId": 88888888,
    "CustomContent": "zidingyi",
    "IntAttr": 2,
    "IntAttr2": 20,
    "IntAttr3": 33,
    "IntAttr4": 33,
    "StrAttr": "ss",
    "StrAttr2": "test",
    "StrAttr3": "ss",
    "StrAttr4": "ss",
}
DENIED_MESSAGE = "Your request was denied due to instance flow control."

# Huawei (spec huawei.md §2.3): the dev project and its private seed image.
HW_PROJECT = "0b1e494e2660441a957313163095fe5c"
HW_SEED = "33ad552d-1149-471c-8190-ff6776174a00"
HW_REQUEST_ID = r"[0-9a-f]{32}"

# JD (spec jd.md §8): the seeded food collection's image and its info.
MILK = "Milk_salt_soda_v1"
MILK_INFO = '{"Ingredients":"wheat flour, milkfat, edible salt", "price":"12.0"}'
MSG_11010 = "发布方接口调用异常，请稍后再试"

pytestmark = [
    pytest.mark.imgemu_args("--auth", "strict"),
    # GlanceShowImage is deprecated in the SDK (spec huawei.md §1), still served.
    pytest.mark.filterwarnings("ignore:Method '.*' of ImsClient is deprecated:DeprecationWarning"),
]


# ------------------------------------------------------------------ emulator helpers


def add_faults(emulator, rules):
    """POST /_imgemu/faults (one rule or an array): 201 and the stored rules."""
    got = emulator.control("POST", "/faults", json=rules)
    assert got.status_code == 201, got.text
    return got.json()


def fault_rule(emulator, rule_id):
    """One rule of GET /_imgemu/faults, with its `matched` and `fired` counters."""
    got = emulator.control("GET", "/faults")
    assert got.status_code == 200, got.text
    return next(r for r in got.json() if r["id"] == rule_id)


def journal(emulator, **params):
    got = emulator.control("GET", "/journal", params=params)
    assert got.status_code == 200, got.text
    return got.json()


def healthy(emulator):
    return emulator.control("GET", "/health").status_code == 200


class Spawned:
    """A second emulator process, started like conftest.py starts the fixture's."""

    def __init__(self, url):
        self.url = url

    def control(self, method, path, **kwargs):
        return requests.request(method, f"{self.url}/_imgemu{path}", timeout=10, **kwargs)


@contextmanager
def spawn(*flags):
    binary = os.environ.get("IMGEMU_BIN", os.path.join(ROOT, "target", "debug", "imgemu"))
    process = subprocess.Popen(
        [binary, "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, IMGEMU_LOG_LEVEL="warn"),
    )
    try:
        ready = process.stdout.readline()
        url = next((w for w in ready.split() if w.startswith("http://")), None)
        assert url is not None, f"no ready line from imgemu: {ready!r}"
        emu = Spawned(url)
        assert healthy(emu)
        yield emu
    finally:
        process.terminate()
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    assert code == 0, "imgemu exits 0 on SIGTERM"


# ------------------------------------------------------------------ SDK helpers


def ali_client(emulator):
    """The official Alibaba client (V3, ACS3-HMAC-SHA256): endpoint is host:port without a scheme."""
    endpoint = emulator.url.removeprefix("http://")
    return AliClient(AliConfig(access_key_id=DEV_AK, access_key_secret=DEV_SK, endpoint=endpoint, protocol="http"))


def ali_update(cli, **attrs):
    return cli.update_image(am.UpdateImageRequest(instance_name=ALI_INSTANCE, product_id="2092061_1", pic_name="namexxx.jpg", **attrs))


def ali_namexxx(cli):
    got = cli.check_image_exists(am.CheckImageExistsRequest(instance_name=ALI_INSTANCE, product_id="2092061_1", pic_name="namexxx.jpg"))
    assert (got.status_code, got.body.success, got.body.exists) == (200, True, True)
    return got.body.auctions.to_map()


def ali_detail(cli):
    return cli.detail(am.DetailRequest(instance_name=ALI_INSTANCE))


def assert_ali_success(resp):
    assert resp.status_code == 200
    assert (resp.body.code, resp.body.message, resp.body.success) == (0, "success", True)


def assert_denied(err):
    """The injected DeniedRequest as tea-openapi surfaces it: a ClientException, code and status from
    the vendor's native error body (spec aliyun.md §2.3), not a throttling exception."""
    assert isinstance(err, ClientException), repr(err)
    assert not isinstance(err, ThrottlingException), "no x-acs-retry-after header is sent"
    assert (err.code, err.status_code) == ("DeniedRequest", 403), (err.code, err.status_code, err.message)
    assert err.data["Code"] == "DeniedRequest"
    assert err.data["Message"] == DENIED_MESSAGE
    assert err.data["RequestId"] == err.request_id
    assert err.message == f"code: 403, {DENIED_MESSAGE} request id: {err.request_id}"


def hw_client(emulator):
    """The official Huawei IMS client: project id given, explicit endpoint (no IAM call)."""
    return ImsClient.new_builder().with_credentials(BasicCredentials(DEV_AK, DEV_SK, HW_PROJECT)).with_endpoints([emulator.url]).build()


def hw_show(ims, image_id=HW_SEED):
    return ims.glance_show_image(GlanceShowImageRequest(image_id=image_id))


def hw_rename(ims, name, image_id=HW_SEED):
    body = [UpdateImageRequestBody(op="replace", path="/name", value=name)]
    return ims.update_image(UpdateImageRequest(image_id=image_id, body=body))


def jd_client(emulator):
    endpoint = emulator.url.removeprefix("http://")
    return SimpleClient(JdConfig(endpoint, scheme=SCHEME_HTTP), Credential(DEV_AK, DEV_SK), logger=Logger(ERROR))


def jd_post(cli, operation, body):
    return cli.send(SimpleRequest(f"/jdai/{operation}", "POST", None, body, {}))


def jd_get(cli, operation, params=None):
    return cli.send(SimpleRequest(f"/jdai/{operation}", "GET", params, None, {}))


def jd_result(resp):
    """The business result of a 10000 envelope (HTTP 200)."""
    assert resp.status_code == 200, resp.text
    payload = resp.json()
    assert payload["code"] == "10000", payload
    return payload["result"]


def jd_info(cli, image_name):
    fetched = jd_result(jd_post(cli, "image_fetch", {"collection_name": "food", "image_names": [image_name]}))
    return fetched["succeeded_list"], fetched["failed_list"]


def png(width, height, gray):
    """An 8-bit RGB PNG (filter None on every row) whose pixel (x, y) is gray(x, y) on all channels."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            v = gray(x, y) & 0xFF
            raw += bytes((v, v, v))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


# 240x240 (above JD's 201 px minimum): diagonal stripes 20 px wide, a pattern the fixtures do not use.
STRIPES = b64encode(png(240, 240, lambda x, y: 255 if (x + y) // 20 % 2 else 0)).decode("ascii")


# ------------------------------------------------------------------ Alibaba: injected DeniedRequest


def test_aliyun_denied_request_twice_then_success(emulator):
    stored = add_faults(
        emulator,
        {"id": "ali-denied", "match": {"vendor": "aliyun", "operation": "UpdateImage"}, "trigger": {"first": 2}, "action": {"kind": "error", "code": "DeniedRequest"}},
    )
    assert [(r["id"], r["matched"], r["fired"]) for r in stored] == [("ali-denied", 0, 0)]
    cli = ali_client(emulator)

    denied_ids = []
    for attempt in (1, 2):
        with pytest.raises(ClientException) as info:
            ali_update(cli, str_attr=f"attempt {attempt}")
        assert_denied(info.value)
        denied_ids.append(info.value.request_id)
        assert ali_namexxx(cli) == NAMEXXX, f"denied attempt {attempt} changed nothing"
    resp = ali_update(cli, str_attr="attempt 3")
    assert_ali_success(resp)
    assert ali_namexxx(cli) == {**NAMEXXX, "StrAttr": "attempt 3"}, "only the third call was applied"

    rule = fault_rule(emulator, "ali-denied")
    assert (rule["matched"], rule["fired"]) == (3, 2)
    assert (rule["match"], rule["trigger"], rule["action"]) == (
        {"vendor": "aliyun", "operation": "UpdateImage"},
        {"first": 2},
        {"kind": "error", "code": "DeniedRequest"},
    )

    faulted = journal(emulator, fault="true")
    assert faulted["count"] == 2
    assert [(e["operation"], e["status"], e["fault"]) for e in faulted["entries"]] == [("UpdateImage", 403, {"rule": "ali-denied", "action": "error"})] * 2
    assert [e["request_id"] for e in faulted["entries"]] == denied_ids, "the ids the SDK saw"
    updates = journal(emulator, vendor="aliyun", operation="UpdateImage")["entries"]
    assert [(e["status"], e["fault"] is not None) for e in updates] == [(403, True), (403, True), (200, False)]
    assert updates[-1]["request_id"] == resp.body.request_id


def test_aliyun_client_retry_loop_on_denied_request(emulator):
    """A retry loop the way a client writes it: retry on DeniedRequest up to 3 times, other errors out."""

    def with_retries(call, retries=3):
        attempts = 0
        while True:
            attempts += 1
            try:
                return call(), attempts
            except ClientException as err:
                if err.code != "DeniedRequest" or attempts > retries:
                    raise
                time.sleep(0.01 * 2**attempts)

    add_faults(emulator, {"id": "flaky", "match": {"vendor": "aliyun", "operation": "UpdateImage"}, "trigger": {"first": 2}, "action": {"kind": "error", "code": "DeniedRequest"}})
    cli = ali_client(emulator)
    resp, attempts = with_retries(lambda: ali_update(cli, int_attr=77, str_attr_3="retried"))
    assert_ali_success(resp)
    assert attempts == 3
    assert ali_namexxx(cli) == {**NAMEXXX, "IntAttr": 77, "StrAttr3": "retried"}
    assert (fault_rule(emulator, "flaky")["matched"], fault_rule(emulator, "flaky")["fired"]) == (3, 2)

    # A fault outlasting the budget: 1 try + 3 retries, all denied; the loop gives the error up.
    add_faults(emulator, {"id": "outage", "match": {"vendor": "aliyun", "operation": "UpdateImage"}, "trigger": {"first": 4}, "action": {"kind": "error", "code": "DeniedRequest"}})
    with pytest.raises(ClientException) as info:
        with_retries(lambda: ali_update(cli, int_attr=78))
    assert_denied(info.value)
    outage = fault_rule(emulator, "outage")
    assert (outage["matched"], outage["fired"]) == (4, 4)
    assert ali_namexxx(cli)["IntAttr"] == 77, "no denied call changed anything"
    # The outage is over: the next call goes through.
    assert_ali_success(ali_update(cli, int_attr=79))
    assert ali_namexxx(cli)["IntAttr"] == 79


# ------------------------------------------------------------------ Huawei: injected IMG.0061


def test_huawei_injected_500_is_a_server_response_exception(emulator):
    add_faults(emulator, {"id": "hw-500", "match": {"vendor": "huawei", "operation": "UpdateImage"}, "action": {"kind": "error", "code": "IMG.0061"}})
    ims = hw_client(emulator)
    before = hw_show(ims).to_json_object()
    assert before["name"] == "ims_test"

    with pytest.raises(ServerResponseException) as info:
        hw_rename(ims, "renamed")
    err = info.value
    assert not isinstance(err, ClientRequestException)
    assert (err.status_code, err.error_code, err.error_msg) == (500, "IMG.0061", "Unknown system error."), str(err)
    assert re.fullmatch(HW_REQUEST_ID, err.request_id or ""), err.request_id
    assert hw_show(ims).to_json_object() == before, "the image is unchanged"

    entries = journal(emulator, vendor="huawei", operation="UpdateImage")["entries"]
    assert [(e["status"], e["request_id"], e["fault"]) for e in entries] == [(500, err.request_id, {"rule": "hw-500", "action": "error"})]
    assert (fault_rule(emulator, "hw-500")["matched"], fault_rule(emulator, "hw-500")["fired"]) == (1, 1)
    # Without the rule the same call goes through: only the fault stood in the way.
    assert emulator.control("DELETE", "/faults/hw-500").status_code == 204
    assert hw_rename(ims, "renamed").name == "renamed"
    assert hw_show(ims).name == "renamed"


# ------------------------------------------------------------------ JD: 11010 envelope and task_fail


def test_jd_11010_envelope(emulator):
    add_faults(emulator, {"id": "jd-11010", "match": {"vendor": "jd", "operation": "image_update"}, "action": {"kind": "error", "code": "11010"}})
    cli = jd_client(emulator)
    resp = jd_post(cli, "image_update", {"collection_name": "food", "docs": [{"image_name": MILK, "info": '{"price":"99.0"}'}]})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    payload = resp.json()
    assert (payload["code"], payload["msg"]) == ("11010", MSG_11010)
    assert "result" not in payload
    assert (payload["charge"], payload["remainSeconds"]) == (False, -1)

    assert jd_info(cli, MILK) == ([{"image_name": MILK, "info": MILK_INFO}], []), "the info is unchanged"
    entries = journal(emulator, vendor="jd", operation="image_update")["entries"]
    assert [(e["status"], e["request_id"], e["fault"]) for e in entries] == [(200, resp.headers["x-jdcloud-request-id"], {"rule": "jd-11010", "action": "error"})]


def test_jd_task_fail_puts_the_image_in_failed_list(emulator):
    add_faults(emulator, {"id": "jd-down", "match": {"vendor": "jd", "operation": "index"}, "action": {"kind": "task_fail", "message": "BACKEND_DOWN"}})
    cli = jd_client(emulator)
    # The index call itself succeeds (the handler runs, DESIGN §6); its task is what fails.
    indexed = jd_result(jd_post(cli, "index", {"collection_name": "food", "docs": [{"image_name": "Stripes_v1", "image_content": STRIPES, "info": "x"}]}))
    assert (indexed["status_code"], indexed["message"], indexed["failed_list"]) == (0, "SUCCESS", [])
    task_id = indexed["task_id"]

    first = jd_result(jd_get(cli, "task", {"task_id": task_id}))
    assert (first["task_status"], first["pending_list"], first["succeeded_list"], first["failed_list"]) == ("PROCESSING", ["Stripes_v1"], [], [])
    second = jd_result(jd_get(cli, "task", {"task_id": task_id}))
    assert second == {
        "status_code": 0,
        "message": "SUCCESS",
        "task_status": "FINISHED",
        "succeeded_list": [],
        "failed_list": [{"image_name": "Stripes_v1", "message": "BACKEND_DOWN"}],
        "pending_list": [],
    }
    assert jd_result(jd_get(cli, "task", {"task_id": task_id})) == second, "results are fixed at finish"
    assert jd_info(cli, "Stripes_v1") == ([], [{"image_name": "Stripes_v1", "message": "NO_RELATIVE_IMAGE"}]), "the image was not stored"
    assert [e["fault"] for e in journal(emulator, vendor="jd", operation="index")["entries"]] == [{"rule": "jd-down", "action": "task_fail"}]

    # The image is valid: without the rule the same index succeeds.
    assert emulator.control("DELETE", "/faults/jd-down").status_code == 204
    again = jd_result(jd_post(cli, "index", {"collection_name": "food", "docs": [{"image_name": "Stripes_v1", "image_content": STRIPES, "info": "x"}]}))["task_id"]
    jd_result(jd_get(cli, "task", {"task_id": again}))
    done = jd_result(jd_get(cli, "task", {"task_id": again}))
    assert (done["task_status"], done["succeeded_list"], done["failed_list"]) == ("FINISHED", ["Stripes_v1"], [])
    assert jd_info(cli, "Stripes_v1") == ([{"image_name": "Stripes_v1", "info": "x"}], [])


# ------------------------------------------------------------------ connection-level faults


def test_aliyun_reset_is_a_connection_error_and_the_server_stays_healthy(emulator):
    # Detail admits 1 per second (spec aliyun.md §7): a frozen clock would deny a second counted Detail.
    assert emulator.control("POST", "/clock", json={"freeze": True}).status_code == 200
    add_faults(emulator, {"id": "ali-rst", "match": {"vendor": "aliyun", "operation": "Detail"}, "action": {"kind": "reset"}})
    cli = ali_client(emulator)
    for _ in range(2):
        with pytest.raises(TeaException) as info:
            ali_detail(cli)
        err = info.value
        # No HTTP response at all: not a ResponseException (ClientException, ServerException, ...).
        assert not isinstance(err, ResponseException), repr(err)
        assert getattr(err, "status_code", None) is None
        assert re.search(r"Connection (reset|aborted)", str(err)), str(err)

    assert healthy(emulator)
    rule = fault_rule(emulator, "ali-rst")
    assert (rule["matched"], rule["fired"]) == (2, 2), "tea made one attempt per call"
    entries = journal(emulator, vendor="aliyun")["entries"]
    assert [(e["operation"], e["status"], e["fault"]) for e in entries] == [("Detail", 0, {"rule": "ali-rst", "action": "reset"})] * 2
    # Other operations are untouched, and without the rule Detail answers: the dropped requests never
    # reached the handler, so they used up no flow-control window.
    assert ali_namexxx(cli) == NAMEXXX
    assert emulator.control("DELETE", "/faults").status_code == 204
    detail = ali_detail(cli)
    assert (detail.status_code, detail.body.success, detail.body.instance.name) == (200, True, ALI_INSTANCE)


def test_aliyun_reset_after_the_handler_loses_the_response_but_not_the_write(emulator):
    add_faults(emulator, {"id": "lost", "match": {"vendor": "aliyun", "operation": "UpdateImage"}, "trigger": {"times": 1}, "action": {"kind": "reset", "apply": "after"}})
    cli = ali_client(emulator)
    with pytest.raises(TeaException) as info:
        ali_update(cli, str_attr="did it happen?")
    assert not isinstance(info.value, ResponseException), repr(info.value)
    assert ali_namexxx(cli) == {**NAMEXXX, "StrAttr": "did it happen?"}, "the write happened"
    entries = journal(emulator, vendor="aliyun", operation="UpdateImage")["entries"]
    assert [(e["status"], e["fault"]) for e in entries] == [(200, {"rule": "lost", "action": "reset"})]
    # times: 1: a retry goes through normally.
    assert_ali_success(ali_update(cli, str_attr="did it happen?"))


@pytest.mark.parametrize("kind", ["reset", "close", "empty", "garbage"])
def test_huawei_connection_faults_are_connection_exceptions(emulator, kind):
    add_faults(emulator, {"id": "hw-conn", "match": {"vendor": "huawei", "operation": "GlanceShowImage"}, "trigger": {"times": 1}, "action": {"kind": kind}})
    ims = hw_client(emulator)
    with pytest.raises(ConnectionException):
        hw_show(ims)
    assert healthy(emulator)
    assert hw_show(ims).name == "ims_test", "the next call goes through"
    entries = journal(emulator, vendor="huawei")["entries"]
    assert [e["fault"] for e in entries] == [{"rule": "hw-conn", "action": kind}, None]


def test_huawei_truncated_body_fails_the_call(emulator):
    add_faults(emulator, {"id": "hw-cut", "match": {"vendor": "huawei", "operation": "GlanceShowImage"}, "trigger": {"times": 1}, "action": {"kind": "truncate", "fraction": 0.5}})
    ims = hw_client(emulator)
    # The core does not wrap a broken body: requests' own exception surfaces, but never a response.
    with pytest.raises((requests.exceptions.RequestException, ConnectionException)):
        hw_show(ims)
    assert hw_show(ims).name == "ims_test"


# ------------------------------------------------------------------ reproducibility under --seed


def jd_fault_pattern(emu, calls=40, unrelated=False):
    """Which of `calls` collection_list calls the `coin` rule faulted (an 11010 envelope), through the
    JD SDK; with `unrelated`, other JD operations, health polls and Alibaba calls run in between."""
    cli = jd_client(emu)
    pattern = []
    for i in range(calls):
        if unrelated and i % 3 == 0:
            jd_info(cli, MILK)
            assert healthy(emu)
            if i % 9 == 0:
                ali_namexxx(ali_client(emu))
        payload = jd_get(cli, "collection_list").json()
        assert payload["code"] in ("10000", "11010"), payload
        pattern.append(payload["code"] == "11010")
    rule = fault_rule(emu, "coin")
    assert (rule["matched"], rule["fired"]) == (calls, sum(pattern))
    assert journal(emu, fault="true")["count"] == sum(pattern)
    return pattern


COIN = {"id": "coin", "match": {"vendor": "jd", "operation": "collection_list"}, "trigger": {"probability": 0.5}, "action": {"kind": "error", "code": "11010"}}


@pytest.mark.imgemu_args("--auth", "strict", "--seed", "7")
def test_seeded_probability_rule_faults_the_same_calls_in_two_processes(emulator):
    add_faults(emulator, COIN)
    first = jd_fault_pattern(emulator, unrelated=True)
    assert any(first) and not all(first), first
    # A second, fresh process with the same seed and rule, and no unrelated traffic: the same pattern.
    with spawn("--auth", "strict", "--seed", "7") as other:
        add_faults(other, COIN)
        assert jd_fault_pattern(other) == first
    # Another seed, another pattern.
    with spawn("--auth", "strict", "--seed", "8") as other:
        add_faults(other, COIN)
        assert jd_fault_pattern(other) != first
